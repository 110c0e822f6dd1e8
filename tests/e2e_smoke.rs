//! The desktop app opens, talks to its Rust side, and looks like the console.

mod support;

use support::DesktopApp;

#[tokio::test]
async fn console_opens_on_instances_with_its_state_dir_and_antd_styles() {
    let app = DesktopApp::launch().await;

    assert_eq!(app.client().title().await.unwrap(), "pgrelocate");
    assert_eq!(app.text("[data-testid=page-title]").await, "Instances");

    // The footer shows what `app_info` answered: the state dir this process was given.
    let expected = format!("State: {}", app.home().display());
    assert_eq!(
        app.wait_for_text("[data-testid=state-dir]", &expected)
            .await,
        expected
    );
    assert_eq!(
        app.text("[data-testid=app-version]").await,
        concat!("v", env!("CARGO_PKG_VERSION"))
    );
    assert!(app
        .text("[data-testid=instances-empty]")
        .await
        .contains("Create a sandbox"));

    // antd's CSS-in-JS styles are inline <style> tags: if the CSP blocked them the primary
    // button would render with the browser's default grey background.
    let primary_bg = app
        .eval("getComputedStyle(document.querySelector('.ant-btn-primary')).backgroundColor")
        .await;
    assert_eq!(primary_bg, "rgb(22, 119, 255)", "antd styles not applied");

    // The app logs to a daily rolling file in its log folder ($PGRELOCATE_HOME/logs here).
    let logs: Vec<_> = std::fs::read_dir(app.home().join("logs"))
        .expect("log folder")
        .map(|e| e.expect("entry").path())
        .collect();
    let log = logs
        .iter()
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("pgrelocate-desktop.log.")
        })
        .unwrap_or_else(|| panic!("no rolling log file in {logs:?}"));
    let text = std::fs::read_to_string(log).expect("read log");
    assert!(text.contains("pgrelocate desktop starting"), "{text}");

    let shot = app.screenshot("e2e_smoke-instances").await;
    eprintln!("screenshot: {}", shot.display());
    app.close().await;
}
