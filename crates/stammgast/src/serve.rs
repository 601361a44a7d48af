//! `stammgast serve`: the HTTP server and the maintenance worker, until Ctrl-C or SIGTERM.

use crate::config::Settings;
use crate::database;
use stammgast_app::App;
use stammgast_worker::WorkerSettings;
use std::time::Duration;
use tokio::net::TcpListener;

pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let mut app = settings
        .app(database::open(&settings.database).await?)
        .with_mailer(settings.mailer()?);
    if let Some(texter) = settings.texter()? {
        app = app.with_texter(texter);
    }
    serve_app(app, &settings).await
}

pub async fn serve_app(app: App, settings: &Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.listen).await?;
    // The first line on stdout says where to connect (tests and scripts wait for it).
    println!("listening on http://{}", listener.local_addr()?);
    let worker = WorkerSettings {
        interval: Duration::from_secs(settings.worker_interval_seconds.max(1)),
        batch_size: settings.worker_batch_size.max(1),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(stammgast_worker::run(app.clone(), worker, wait(stopped)));
    let router = stammgast_http::router(app, settings.site());
    stammgast_http::serve(listener, router, shutdown_signal()).await?;
    let _ = stop.send(true);
    let _ = worker.await;
    Ok(())
}

async fn wait(mut stopped: tokio::sync::watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
