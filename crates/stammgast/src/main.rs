//! `stammgast`: the command line. Wires configuration, a storage backend, the app, the HTTP
//! server and the worker together; the only crate that names a concrete backend.

mod bench;
mod bench_analytics;
mod config;
mod database;
mod demo;
mod history;
mod serve;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use config::Overrides;
use stammgast_app::{App, Clock};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stammgast",
    version,
    about = "Customer loyalty for small businesses"
)]
struct Cli {
    /// A TOML configuration file (see `stammgast config example`).
    #[arg(long, global = true, env = "STAMMGAST_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone, Default)]
struct DatabaseFlag {
    /// `sqlite:///path/to/file.db` or `postgres://user@host/db`; created when missing.
    #[arg(long)]
    database: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (and run the maintenance worker).
    Serve {
        #[command(flatten)]
        database: DatabaseFlag,
        /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free port).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Start a demo café with 18 months of simulated customers and serve it.
    Demo {
        #[command(flatten)]
        database: DatabaseFlag,
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// How many customers to simulate.
        #[arg(long, default_value_t = 1_500)]
        customers: usize,
    },
    /// Create the database if needed and bring its schema up to date.
    Migrate {
        #[command(flatten)]
        database: DatabaseFlag,
    },
    /// Verify every ledger invariant; exits non-zero with a report if one fails.
    Check {
        #[command(flatten)]
        database: DatabaseFlag,
    },
    /// Manage businesses.
    Business {
        #[command(subcommand)]
        command: BusinessCommand,
    },
    /// Manage staff accounts (owners, managers, cashiers log in to the back office and counter).
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Print a business's KPIs over a period (days in the shop's time zone, both included)
    /// as JSON, each with its formula and its value in the period before.
    Kpi {
        #[command(flatten)]
        database: DatabaseFlag,
        #[arg(long)]
        business: String,
        #[arg(long)]
        from: chrono::NaiveDate,
        #[arg(long)]
        to: chrono::NaiveDate,
        /// One location's KPIs instead of the whole business's.
        #[arg(long)]
        location: Option<String>,
    },
    /// Customer-lifetime models.
    Clv {
        #[command(subcommand)]
        command: ClvCommand,
    },
    /// Measure ingestion and HTTP throughput and print the figures.
    Bench(bench::BenchOptions),
}

#[derive(Subcommand)]
enum ClvCommand {
    /// Fit BG/NBD and Gamma-Gamma on a CSV of transactions (`customer_id,date,amount`, ISO
    /// dates) up to and including the calibration end; prints the estimates as JSON, with
    /// time in weeks.
    Fit {
        #[arg(long)]
        transactions: PathBuf,
        /// The last day of the calibration period, e.g. 1997-09-30.
        #[arg(long)]
        calibration_end: chrono::NaiveDate,
    },
}

#[derive(Subcommand)]
enum BusinessCommand {
    /// Create a business; prints `{"business_id": …, "api_key": …}`.
    Create {
        #[command(flatten)]
        database: DatabaseFlag,
        #[arg(long)]
        name: String,
        /// The program as a JSON file; the café template when not given.
        #[arg(long)]
        program: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account with a generated password; prints
    /// `{"staff_id": …, "email": …, "password": …}` (the password is shown once).
    Create {
        #[command(flatten)]
        database: DatabaseFlag,
        #[arg(long)]
        business: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// owner, manager or cashier.
        #[arg(long, default_value = "owner")]
        role: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Print a commented example configuration.
    Example,
}

/// The writer thread allocates and frees the rows and states of every batch; glibc's
/// allocator spent a fifth of its time on that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = |database: DatabaseFlag, listen: Option<SocketAddr>| {
        config::load(
            cli.config.as_deref(),
            Overrides {
                database: database.database,
                listen,
            },
        )
    };
    match cli.command {
        Command::Serve { database, listen } => serve::serve(settings(database, listen)?).await?,
        Command::Demo {
            database,
            listen,
            customers,
        } => {
            let mut settings = settings(database.clone(), listen)?;
            if database.database.is_none() {
                settings.database = "sqlite://stammgast-demo.db".into();
            }
            demo::demo(settings, customers).await?
        }
        Command::Migrate { database } => {
            let settings = settings(database, None)?;
            database::open(&settings.database).await?;
            println!(
                "the database {} is up to date",
                config::redact(&settings.database)
            );
        }
        Command::Check { database } => return check(&settings(database, None)?.database).await,
        Command::Business {
            command:
                BusinessCommand::Create {
                    database,
                    name,
                    program,
                },
        } => {
            let settings = settings(database, None)?;
            let program = program
                .map(|path| {
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))
                })
                .transpose()?;
            let app = App::new(database::open(&settings.database).await?, Clock::system());
            let created = app
                .create_business(&name, program.as_deref())
                .await
                .map_err(describe)?;
            println!(
                "{}",
                serde_json::json!({"business_id": created.business_id, "api_key": created.api_key})
            );
        }
        Command::Staff {
            command:
                StaffCommand::Create {
                    database,
                    business,
                    email,
                    name,
                    role,
                },
        } => {
            let settings = settings(database, None)?;
            let app = App::new(database::open(&settings.database).await?, Clock::system());
            let business = stammgast_core::ids::BusinessId::parse(&business)
                .with_context(|| format!("\"{business}\" is not a business id"))?;
            let role = stammgast_app::parse_role(&role)
                .with_context(|| format!("\"{role}\" is not a role (owner, manager, cashier)"))?;
            let password = stammgast_app::generate_password();
            let account = stammgast_app::NewStaffAccount {
                email: email.clone(),
                name,
                role,
                password: password.clone(),
            };
            let staff_id = app
                .create_staff(business, account)
                .await
                .map_err(describe)?;
            println!(
                "{}",
                serde_json::json!({"staff_id": staff_id, "email": email.trim().to_lowercase(), "password": password})
            );
        }
        Command::Config {
            command: ConfigCommand::Example,
        } => print!("{}", config::EXAMPLE),
        Command::Kpi {
            database,
            business,
            from,
            to,
            location,
        } => {
            let settings = settings(database, None)?;
            let app = settings.app(database::open(&settings.database).await?);
            let business = stammgast_core::ids::BusinessId::parse(&business)
                .with_context(|| format!("\"{business}\" is not a business id"))?;
            let location = location
                .map(|id| {
                    stammgast_core::ids::LocationId::parse(&id)
                        .with_context(|| format!("\"{id}\" is not a location id"))
                })
                .transpose()?;
            let query = stammgast_app::ReportQuery { from, to, location };
            let report = app
                .business_report(business, query)
                .await
                .map_err(describe)?;
            println!(
                "{}",
                serde_json::to_string(&stammgast_http::api::dto::KpiReport::new(
                    business, &report
                ))?
            );
        }
        Command::Clv {
            command:
                ClvCommand::Fit {
                    transactions,
                    calibration_end,
                },
        } => println!("{}", clv_fit(&transactions, calibration_end)?),
        Command::Bench(options) => bench::run(options).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn check(database: &str) -> anyhow::Result<ExitCode> {
    let app = App::new(database::open(database).await?, Clock::system());
    let reports = app.check().await.map_err(describe)?;
    let mut failed = false;
    for report in &reports {
        let verdict = if report.violations.is_empty() {
            "ok"
        } else {
            "FAILED"
        };
        println!(
            "business {}: {} members, {} transfers: {verdict}",
            report.business_id, report.members, report.transfers
        );
        for violation in &report.violations {
            println!("  - {violation}");
        }
        failed |= !report.violations.is_empty();
    }
    println!("{} business(es) checked", reports.len());
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The `clv fit` command's JSON: both models fitted on the file's calibration period.
fn clv_fit(path: &std::path::Path, calibration_end: chrono::NaiveDate) -> anyhow::Result<String> {
    use stammgast_core::clv;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let transactions = clv::read_transactions_csv(&text)
        .with_context(|| format!("{} is not a transactions file", path.display()))?;
    let summaries = clv::summarise(&transactions, calibration_end);
    let fit = clv::fit(&clv::Histories::new(summaries.into_iter().map(|(_, h)| h)))?;
    Ok(serde_json::to_string(&fit)?)
}

/// App errors for a person at a terminal, with every program error listed.
fn describe(error: stammgast_app::AppError) -> anyhow::Error {
    match error {
        stammgast_app::AppError::InvalidProgram(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!("the program is not valid:\n  {}", lines.join("\n  "))
        }
        other => anyhow::anyhow!(other),
    }
}
