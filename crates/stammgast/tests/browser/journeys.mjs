// Journeys in a real browser: Debian's chromium driven by playwright-core. Started by the
// Rust test binary (tests/api/browser.rs), which serves the app on a fresh database and
// passes where it is in the environment. One journey per run: `node journeys.mjs <name>`.
// Exits non-zero with the reason when an expectation fails.

import { chromium } from "playwright-core";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const BASE = env("BASE_URL");
const SCREENSHOTS = env("SCREENSHOTS");
mkdirSync(SCREENSHOTS, { recursive: true });

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

/// A phone: small viewport, touch, German or English preferred.
async function phone(browser, locale) {
  return browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale,
  });
}

/// No serious or critical WCAG 2.1 A/AA violation on the page as it is now.
async function accessible(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] }),
  );
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(bad.length === 0, `${name}: accessibility violations:\n${report.join("\n")}`);
  console.log(`axe ${name}: ${result.violations.length} minor or moderate, 0 serious or critical, ${result.passes.length} rules passed`);
}

async function shot(page, name) {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
}

/// A person typing at phone speed, with a moment to read before each field.
async function typeLikeAPerson(page, selector, text) {
  await page.waitForTimeout(400);
  await page.locator(selector).pressSequentially(text, { delay: 90 });
}

const TEXTS = {
  de: { hello: "Hallo Lea!", submit: "Karte holen", terms: "Teilnahmebedingungen", points: "Punkte", book: "Buchen", stamp: "+1 Stempel", pending: "2 Buchung(en) warten", sent: "Alles übertragen" },
  en: { hello: "Hello Lea!", submit: "Get my card", terms: "terms", points: "Points", book: "Record", stamp: "+1 stamp", pending: "2 action(s) waiting", sent: "Everything sent" },
};

async function join_(browser, language) {
  const t = TEXTS[language];
  const context = await phone(browser, language === "de" ? "de-DE" : "en-GB");
  const page = await context.newPage();
  const started = Date.now();
  // What the shop's QR code encodes.
  await page.goto(`${BASE}/join/${env("BUSINESS_ID")}`);
  expect((await page.getAttribute("html", "lang")) === language, `the join page is in ${language}`);
  await accessible(page, `join-${language}`);
  await typeLikeAPerson(page, "#first_name", "Lea");
  await typeLikeAPerson(page, "#email", `lea.${language}.${Date.now()}@example.com`);
  await page.waitForTimeout(600);
  await page.locator("#terms").tap();
  await page.getByRole("button", { name: t.submit }).tap();
  await page.getByRole("heading", { name: t.hello }).waitFor();
  const seconds = (Date.now() - started) / 1000;
  console.log(`join-${language}: from the shop's QR code to the card in ${seconds.toFixed(1)} s of simulated user time`);
  expect(seconds < 30, `joining took ${seconds} s`);
  expect((await page.getByTestId("points").textContent()).trim() === "50", "the sign-up bonus is on the card");
  expect(await page.locator(".qr-code svg").isVisible(), "the member QR code is shown");
  await accessible(page, `card-${language}`);
  await shot(page, `card-${language}`);
  for (const path of ["/card/settings", `/join/${env("BUSINESS_ID")}/privacy`]) {
    await page.goto(`${BASE}${path}`);
    await accessible(page, `${path} (${language})`);
  }
  await page.goto(`${BASE}/card`);
  return { context, page };
}

async function cardOffline(browser) {
  const { context, page } = await join_(browser, "de");
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  // Once the worker controls the page, the card is in its cache.
  await page.reload();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const code = (await page.getByTestId("member-code").textContent()).trim();
  // Installable: the manifest's icons are there.
  const manifest = await (await page.request.get(`${BASE}/manifest.webmanifest`)).json();
  for (const icon of manifest.icons) {
    const response = await page.request.get(`${BASE}${icon.src}`);
    expect(response.ok() && response.headers()["content-type"] === icon.type, `icon ${icon.src}`);
  }
  await context.setOffline(true);
  await page.reload();
  expect(await page.locator(".qr-code svg").isVisible(), "the member QR shows offline");
  expect((await page.getByTestId("member-code").textContent()).trim() === code, "the same member code offline");
  expect(await page.locator(".offline-note").isVisible(), "the card says it is offline");
  await shot(page, "card-offline");
  console.log("card-offline: the member QR code shows without a connection");
}

async function logIn(browser, language) {
  const context = await phone(browser, language === "de" ? "de-DE" : "en-GB");
  await context.grantPermissions(["camera"], { origin: BASE });
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await accessible(page, "login");
  await page.fill("#email", env("CASHIER_EMAIL"));
  await page.fill("#password", env("CASHIER_PASSWORD"));
  await page.locator("button[type=submit]").tap();
  await page.waitForURL(`${BASE}/counter`);
  return { context, page };
}

async function counter(browser) {
  const t = TEXTS.de;
  const { page } = await logIn(browser, "de");
  await accessible(page, "counter");
  await shot(page, "counter");
  await page.fill("#q", env("MEMBER_CODE").toLowerCase());
  await page.locator("#find button[type=submit]").tap();
  await page.waitForURL(/\/counter\/members\//);
  // After the scan (here: the typed code), the amount and one tap.
  await page.fill("#amount", "4,50");
  await page.getByRole("button", { name: t.book }).tap();
  const notice = page.getByTestId("notice");
  await notice.waitFor();
  const text = await notice.textContent();
  expect(text.includes("Gebucht: 4 Punkte"), `the counter says what was earned: ${text}`);
  await page.getByRole("button", { name: t.stamp }).tap();
  await page.getByText("Gebucht: 0 Punkte, 1 Stempel").waitFor();
  await accessible(page, "counter-member");
  await shot(page, "counter-member");
  await page.goto(`${BASE}/counter/enrol`);
  await accessible(page, "counter-enrol");
  console.log(`counter: ${text.trim()}`);
}

async function counterOffline(browser) {
  const t = TEXTS.de;
  const { context, page } = await logIn(browser, "de");
  await page.goto(`${BASE}/counter/members/${env("MEMBER_ID")}`);
  await context.setOffline(true);
  await page.getByRole("button", { name: t.stamp }).tap();
  await page.getByRole("button", { name: t.stamp }).tap();
  await page.getByText(t.pending).waitFor();
  await shot(page, "counter-offline-pending");
  await context.setOffline(false);
  await page.getByText(t.sent).waitFor({ timeout: 15000 });
  const stamps = await page.getByTestId("stamps").first().textContent();
  expect(stamps.includes("2 von 10"), `both stamps arrived, once each: ${stamps}`);
  await shot(page, "counter-offline-sent");
  console.log(`counter-offline: two visits recorded offline arrived once each (${stamps.trim()})`);
}

/// On a second device: ask for a sign-in link on the shop's page.
async function requestLink(browser) {
  const context = await phone(browser, "en-GB");
  const page = await context.newPage();
  await page.goto(`${BASE}/join/${env("BUSINESS_ID")}`);
  await page.getByRole("link", { name: "Already have a card? Sign in on this device" }).tap();
  await page.waitForURL(/\/sign-in$/);
  await accessible(page, "sign-in");
  await page.fill("#email", env("MEMBER_EMAIL"));
  await page.getByRole("button", { name: "Send link" }).tap();
  await page.getByTestId("link-sent").waitFor();
  console.log("request-link: the page says the link is on its way");
}

/// The link from the mail opens the card on this device.
async function openLink(browser) {
  const context = await phone(browser, "en-GB");
  const page = await context.newPage();
  await page.goto(`${BASE}${env("LINK")}`);
  await page.waitForURL(`${BASE}/card`);
  await page.getByTestId("member-code").waitFor();
  const code = (await page.getByTestId("member-code").textContent()).trim();
  expect(code === env("MEMBER_CODE"), `the card of the member who asked: ${code}`);
  await shot(page, "card-signed-in-by-link");
  console.log("open-link: the mailed link opened the member's card");
}

/// A member answers the survey a journey mailed, on a phone: the score tapped in the mail
/// is chosen already; they change it, leave a comment and allow it to be published.
async function survey(browser) {
  const context = await phone(browser, "de-DE");
  const page = await context.newPage();
  await page.goto(`${BASE}${env("LINK")}`);
  await page.getByRole("heading", { name: "Wie war dein Besuch bei Café Morgenrot?" }).waitFor();
  expect(await page.getByRole("radio", { name: "9", exact: true }).isChecked(), "the score tapped in the mail is chosen");
  await accessible(page, "survey");
  await page.getByRole("radio", { name: "10", exact: true }).tap();
  await typeLikeAPerson(page, "#comment", "Der beste Kuchen der Stadt");
  await page.getByRole("checkbox").tap();
  await shot(page, "survey");
  await page.getByRole("button", { name: "Absenden" }).tap();
  await page.getByRole("heading", { name: "Danke!" }).waitFor();
  console.log("survey: answered 10 with a comment that may be published");
}

/// The owner sets up the program from a template, launches it and downloads the poster.
async function wizard(browser) {
  const started = Date.now();
  const page = await ownerInOffice(browser, { locale: "de-DE", acceptDownloads: true });
  await accessible(page, "office");
  await page.getByRole("link", { name: "Einrichtung" }).click();
  await page.waitForURL(`${BASE}/office/setup`);
  await accessible(page, "setup-choose");
  await page.getByRole("link", { name: "Café: Stempelkarte" }).click();
  await page.waitForURL(`${BASE}/office/setup/cafe`);
  await page.fill("#stamps_required", "8");
  await page.fill("#stamp_reward_name", "Cappuccino aufs Haus");
  await page.getByRole("button", { name: "Vorschau" }).click();
  await page.getByTestId("preview").waitFor();
  expect((await page.getByTestId("preview").textContent()).includes("3 von 8 Stempeln"), "the preview shows the adjusted card");
  await accessible(page, "setup-preview");
  await shot(page, "office-setup-preview");
  await page.getByRole("button", { name: "Programm starten" }).click();
  await page.getByTestId("launched").waitFor();
  const seconds = (Date.now() - started) / 1000;
  console.log(`wizard: from login to a launched program in ${seconds.toFixed(1)} s`);
  expect(seconds < 300, `setup took ${seconds} s`);
  await accessible(page, "office-qr");
  await shot(page, "office-qr");
  const downloads = join(SCREENSHOTS, "downloads");
  mkdirSync(downloads, { recursive: true });
  for (const testid of ["poster-pdf", "poster-png"]) {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testid).click()]);
    const path = join(downloads, download.suggestedFilename());
    await download.saveAs(path);
    console.log(`downloaded ${path}`);
  }
  for (const path of ["/office/members", "/office/team", "/office/legal", "/office/rewards", "/office/import", "/office/locations", "/office/branding", "/office/audit"]) {
    await page.goto(`${BASE}${path}`);
    await accessible(page, path);
  }
  await shot(page, "office-legal");
}

/// The cashier scans the member's QR code with the camera (a video file as the camera).
async function scan(browser) {
  const { page } = await logIn(browser, "de");
  await page.getByRole("button", { name: "Code scannen" }).tap();
  await page.waitForURL(new RegExp(`/counter/members/${env("MEMBER_ID")}$`), { timeout: 20000 });
  await shot(page, "counter-scanned");
  const decoder = await page.evaluate(() => ("BarcodeDetector" in window ? "BarcodeDetector" : "the bundled jsQR"));
  console.log(`scan: the camera found the member's card (read by ${decoder})`);
}

/// The owner logged in at a desk-sized screen, on the back office's start page.
async function ownerInOffice(browser, options) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  await page.goto(`${BASE}/login`);
  await page.fill("#email", env("OWNER_EMAIL"));
  await page.fill("#password", env("OWNER_PASSWORD"));
  await page.locator("button[type=submit]").click();
  await page.waitForURL(`${BASE}/office`);
  return page;
}

/// The owner imports a customer list: a dry run first, then the import in parts.
async function importMembers(browser) {
  const page = await ownerInOffice(browser, { locale: "de-DE" });
  await page.getByRole("link", { name: "Mitglieder importieren" }).click();
  await page.waitForURL(`${BASE}/office/import`);
  await accessible(page, "office-import");
  await page.setInputFiles("#file", env("CSV_FILE"));
  await page.waitForFunction(() => document.getElementById("csv").value.length > 0);
  await page.getByRole("button", { name: "Probelauf" }).click();
  const summary = page.getByTestId("import-summary");
  await summary.waitFor();
  console.log(`import: ${(await summary.textContent()).trim()}`);
  await page.getByRole("button", { name: "Importieren" }).click();
  await page.getByText("Importiert:").waitFor({ timeout: 30000 });
  const progress = await page.evaluate(() => {
    const bar = document.getElementById("import-progress");
    return `${bar.value}/${bar.max}`;
  });
  console.log(`import: ${(await summary.textContent()).trim()} (progress ${progress} parts)`);
  await shot(page, "office-import");
}

/// The owner opens the dashboard: the tiles, the five charts drawn, another period, and a
/// table downloaded as CSV.
async function dashboard(browser) {
  const page = await ownerInOffice(browser, { locale: "en-GB", acceptDownloads: true });
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.waitForURL(/\/office\/dashboard/);
  await page.waitForFunction(() => document.querySelectorAll(".uplot canvas").length >= 5);
  console.log(`dashboard: ${await page.locator(".uplot").count()} charts drawn`);
  console.log(`dashboard: members ${(await page.locator('[data-kpi="members"]').textContent()).trim()}`);
  console.log(`dashboard: revenue ${(await page.locator('[data-kpi="member_revenue"]').textContent()).trim()}`);
  console.log(`dashboard: nps ${(await page.locator('[data-kpi="nps"]').textContent()).trim()}`);
  await accessible(page, "office-dashboard");
  await shot(page, "office-dashboard");
  await page.fill("#from", "2020-01-01");
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL(/from=2020-01-01/);
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: "KPIs" }).click();
  const file = await (await download).path();
  const csv = readFileSync(file, "utf8");
  console.log(`dashboard csv: ${csv.split("\r\n")[0]}`);
  console.log(`dashboard csv rows: ${csv.trim().split("\r\n").length}`);
}

/// The owner writes a filter in German: a typo is marked where it is, the preview shows
/// whom the fixed filter finds, and the saved segment is listed with its size.
async function segments(browser) {
  const page = await ownerInOffice(browser, { locale: "de-DE" });
  await page.getByRole("link", { name: "Segmente" }).click();
  await page.waitForURL(/\/office\/segments/);
  await page.fill("#name", "Kuchenfreunde");
  await page.fill("#filter", "bought kuchen und visits >= zwei");
  await page.getByRole("button", { name: "Vorschau" }).click();
  const problem = page.getByTestId("filter-error");
  await problem.waitFor();
  console.log(`segments error: ${(await problem.evaluate((el) => el.firstChild.textContent)).trim()}`);
  console.log(`segments marked: ${(await problem.locator("mark").textContent()).trim()}`);
  console.log(`segments invalid: ${await page.locator("#filter").getAttribute("aria-invalid")}`);
  await accessible(page, "office-segments-error");
  await page.fill("#filter", "bought kuchen und visits >= 2");
  await page.getByRole("button", { name: "Vorschau" }).click();
  const preview = page.getByTestId("preview");
  await preview.waitFor();
  console.log(`segments preview: ${(await preview.textContent()).trim()}`);
  await page.getByRole("button", { name: "Speichern" }).click();
  await page.getByTestId("notice").waitFor();
  console.log(`segments saved: ${(await page.getByTestId("notice").textContent()).trim()}`);
  const row = page.getByTestId("segments").locator("tbody tr").first();
  const cells = await row.locator("th, td").allTextContents();
  console.log(`segments row: ${cells.slice(0, 3).map((cell) => cell.trim()).join(" | ")}`);
  await accessible(page, "office-segments");
  await shot(page, "office-segments");
}

/// The owner sets up the win-back automation from its template, sees who would get it,
/// sends a test to themselves and starts it.
async function winBack(browser) {
  const page = await ownerInOffice(browser, { locale: "de-DE" });
  await page.getByRole("link", { name: "Automationen" }).click();
  await page.waitForURL(/\/office\/journeys/);
  await page.getByRole("button", { name: /Wir vermissen dich/ }).click();
  const notice = page.getByTestId("notice");
  await notice.waitFor();
  console.log(`win-back created: ${(await notice.textContent()).trim()}`);
  await page.getByRole("button", { name: "Wer bekäme sie?" }).click();
  await page.getByTestId("audience").waitFor();
  console.log(`win-back audience: ${(await page.getByTestId("audience").textContent()).trim()}`);
  await page.getByRole("button", { name: "Test an mich senden" }).click();
  await page.getByText("Die Testmail ist an").waitFor();
  console.log(`win-back test: ${(await page.getByTestId("notice").textContent()).trim()}`);
  await page.getByRole("button", { name: "Starten" }).click();
  await page.getByText("Gestartet:").waitFor();
  const row = page.getByTestId("journeys").locator("tbody tr").first();
  console.log(`win-back row: ${(await row.locator("th").textContent()).trim().replace(/\s+/g, " ")}`);
  console.log(`win-back uplift: ${(await row.getByTestId("uplift").textContent()).trim()}`);
  await accessible(page, "office-journeys");
  await shot(page, "office-journeys");
}

const JOURNEYS = {
  dashboard,
  segments,
  "win-back": winBack,
  import: importMembers,
  scan,
  wizard,
  "request-link": requestLink,
  "open-link": openLink,
  survey,
  "join-de": (browser) => join_(browser, "de"),
  "join-en": (browser) => join_(browser, "en"),
  "card-offline": cardOffline,
  counter,
  "counter-offline": counterOffline,
};

const name = process.argv[2];
const journey = JOURNEYS[name];
if (!journey) {
  console.error(`unknown journey "${name}"; known: ${Object.keys(JOURNEYS).join(", ")}`);
  process.exit(2);
}
// A journey may give the browser a video file to use as its camera.
const camera = process.env.FAKE_CAMERA
  ? ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${process.env.FAKE_CAMERA}`]
  : [];
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", ...camera] });
try {
  await journey(browser);
} catch (error) {
  console.error(`${name}: ${error.stack || error}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
