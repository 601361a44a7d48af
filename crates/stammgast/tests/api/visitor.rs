//! A person with a browser, as far as the server can tell: cookies kept between requests,
//! forms posted, redirects looked at rather than followed. For page tests that need no
//! JavaScript; the journeys in a real browser are in `browser.rs`.

use std::collections::BTreeMap;

pub struct Visitor {
    address: String,
    language: &'static str,
    cookies: BTreeMap<String, String>,
    agent: ureq::Agent,
}

pub struct Page {
    pub status: u16,
    /// Where a redirect points.
    pub location: Option<String>,
    pub html: String,
}

impl Page {
    /// The value of the first hidden input with this name.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name}"))
            + marker.len();
        let end = self.html[start..].find('"').unwrap() + start;
        self.html[start..end].to_owned()
    }
}

impl Visitor {
    /// A visitor whose browser prefers `language` (`de` or `en`).
    pub fn new(address: &str, language: &'static str) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        Self {
            address: address.to_owned(),
            language,
            cookies: BTreeMap::new(),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn get(&mut self, path: &str) -> Page {
        let response = self
            .agent
            .get(format!("{}{path}", self.address))
            .header("Accept-Language", self.language)
            .header("Cookie", self.cookie_header())
            .call()
            .expect("the server answers");
        self.read(response)
    }

    /// A download's bytes (a PDF, an image), which must answer 200.
    pub fn get_bytes(&mut self, path: &str) -> Vec<u8> {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.address))
            .header("Cookie", self.cookie_header())
            .call()
            .expect("the server answers");
        assert_eq!(response.status().as_u16(), 200, "{path}");
        response
            .body_mut()
            .with_config()
            .limit(10_000_000)
            .read_to_vec()
            .unwrap()
    }

    pub fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let response = self
            .agent
            .post(format!("{}{path}", self.address))
            .header("Accept-Language", self.language)
            .header("Cookie", self.cookie_header())
            .send_form(fields.iter().copied())
            .expect("the server answers");
        self.read(response)
    }

    /// Logs a staff member in and checks that it worked: cashiers land at the counter,
    /// owners and managers in the back office.
    pub fn log_in(&mut self, (email, password): (&str, &str)) {
        let page = self.post("/login", &[("email", email), ("password", password)]);
        assert_eq!(page.status, 303, "{}", page.html);
        let location = page.location.unwrap_or_default();
        assert!(
            location == "/counter" || location == "/office",
            "{location}"
        );
    }

    fn read(&mut self, mut response: ureq::http::Response<ureq::Body>) -> Page {
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        Page {
            status: response.status().as_u16(),
            location,
            // minijinja escapes `/` in text and attributes; a browser shows it plainly.
            html: response
                .body_mut()
                .read_to_string()
                .unwrap()
                .replace("&#x2f;", "/"),
        }
    }
}
