//! The journey's screenshots at two window sizes in both console languages (issue 17): each
//! page is pictured as it is, re-rendered through the header's language switch and the
//! window resized, without walking the journey again.

use std::time::{Duration, Instant};

use super::DesktopApp;

/// The window sizes of the screenshots: the smallest supported, and a common laptop's.
pub const SIZES: [(u32, u32); 2] = [(1024, 700), (1440, 900)];

/// The languages of the screenshots, as the console's switch names them.
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// Every key of the console's message table, read from its source: a page must never show one.
fn message_keys() -> Vec<&'static str> {
    include_str!("../../ui/i18n.ts")
        .lines()
        .filter_map(|l| l.strip_prefix("  \"")?.split_once("\":").map(|(k, _)| k))
        .collect()
}

/// What a page tells about itself in the current language and size.
#[derive(Debug, serde::Deserialize)]
struct PageFacts {
    lang: String,
    /// Message keys shown as text (a lookup that fell through to its key).
    raw_keys: Vec<String>,
    /// How far the page is wider than the window, in CSS pixels (0: no horizontal scroll).
    overflow: i64,
    /// Each visible page title that does not sit on one line at its full width: its text, the
    /// lines it takes and how much of it is cut off (a title squeezed by its actions).
    squeezed_titles: Vec<serde_json::Value>,
    /// Each open dialog that reaches past the window's left or right edge: its left and right.
    clipped_dialogs: Vec<serde_json::Value>,
    /// Words of titles, step names, column heads, labels, buttons and tags that wrap inside
    /// themselves ("Switcho/ver"): a word whose text lies on more than one line.
    broken_words: Vec<String>,
}

const PAGE_FACTS: &str = "const keys = arguments[0];\
    const text = document.body.innerText;\
    const words = new Set(text.split(/[\\s,:;()（）：，。'\"`]+/));\
    return {\
      lang: document.documentElement.lang,\
      raw_keys: keys.filter(k => words.has(k)),\
      overflow: Math.max(0, document.documentElement.scrollWidth - document.documentElement.clientWidth),\
      squeezed_titles: Array.from(document.querySelectorAll('[data-testid=page-title]'))\
        .filter(el => el.offsetParent !== null)\
        .map(el => {\
          const style = getComputedStyle(el);\
          const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.5;\
          return { text: el.innerText, lines: Math.round(el.clientHeight / line), cut: el.scrollWidth - el.clientWidth };\
        })\
        .filter(t => t.lines > 1 || t.cut > 0),\
      clipped_dialogs: Array.from(document.querySelectorAll('.ant-modal'))\
        .filter(el => el.offsetParent !== null || getComputedStyle(el).position === 'fixed')\
        .map(el => el.getBoundingClientRect())\
        .filter(r => r.width > 0 && (r.left < 0 || r.right > document.documentElement.clientWidth))\
        .map(r => [r.left, r.right]),\
      broken_words: Array.from(document.querySelectorAll(\
          '[data-testid=page-title], .ant-steps-item-title, th.ant-table-cell, .ant-descriptions-item-label, .ant-btn, .ant-tag'))\
        .filter(el => el.getClientRects().length > 0)\
        .flatMap(el => {\
          const broken = [];\
          const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);\
          for (let n = walker.nextNode(); n; n = walker.nextNode()) {\
            for (const m of n.data.matchAll(/\\S+/g)) {\
              const range = document.createRange();\
              range.setStart(n, m.index);\
              range.setEnd(n, m.index + m[0].length);\
              const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));\
              if (tops.size > 1) broken.push(m[0]);\
            }\
          }\
          return broken;\
        }),\
    };";

impl DesktopApp {
    /// Sets the size of the window's web view to `width` × `height` CSS pixels.
    pub async fn set_viewport(&self, width: u32, height: u32) {
        let frame = self
            .eval(
                "[window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]",
            )
            .await;
        let dw = frame[0].as_u64().unwrap_or(0) as u32;
        let dh = frame[1].as_u64().unwrap_or(0) as u32;
        self.client()
            .set_window_size(width + dw, height + dh)
            .await
            .expect("set the window size");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let inner = self.eval("[window.innerWidth, window.innerHeight]").await;
            if inner[0] == width && inner[1] == height {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the web view stays at {inner} after asking for {width}x{height}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Switches the console language with the header's switch, as a user does (with a dialog
    /// open its mask covers the header: then the switch is clicked from script).
    pub async fn switch_language(&self, language: &str) {
        let switch = format!("[data-testid=language-{language}]");
        let dialog_open = self
            .eval("Array.from(document.querySelectorAll('.ant-modal-wrap')).some(w => getComputedStyle(w).display !== 'none')")
            .await;
        if dialog_open == true {
            self.eval(&format!(
                "(document.querySelector({switch:?}).click(), true)"
            ))
            .await;
        } else {
            self.click(&switch).await;
        }
        self.wait_until(
            &format!("the console in {language}"),
            &format!("document.documentElement.lang === '{language}'"),
            Duration::from_secs(10),
        )
        .await;
    }

    /// Pictures the current page at each size in each language as
    /// `<language>-<width>x<height>-<page>.png`, then restores English and the window size.
    /// In either language and at either size the page must show no message key as text, not
    /// scroll sideways, keep its title on one line, break no title, step, column head, label,
    /// button or tag inside a word, and keep its dialogs inside the window; in
    /// Chinese it must show `chinese` (e.g. its title).
    pub async fn journey_shots(&self, page: &str, chinese: &str) {
        let keys = message_keys();
        let start = self.eval("[window.innerWidth, window.innerHeight]").await;
        for language in LANGUAGES {
            self.switch_language(language).await;
            for (width, height) in SIZES {
                self.set_viewport(width, height).await;
                // A resize lays the page out again over a few frames (a chart re-measures its
                // card): read the facts until they settle, then judge the last reading.
                let settle = Instant::now() + Duration::from_secs(5);
                let facts = loop {
                    let facts: PageFacts = serde_json::from_value(
                        self.client()
                            .execute(PAGE_FACTS, vec![serde_json::json!(keys)])
                            .await
                            .expect("read the page"),
                    )
                    .expect("page facts");
                    let fits = facts.overflow == 0
                        && facts.squeezed_titles.is_empty()
                        && facts.broken_words.is_empty();
                    if fits || Instant::now() > settle {
                        break facts;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                };
                let name = format!("{language}-{width}x{height}-{page}");
                self.screenshot(&name).await;
                assert_eq!(facts.lang, language, "{name}");
                assert!(
                    facts.raw_keys.is_empty(),
                    "{name} shows message keys: {:?}",
                    facts.raw_keys
                );
                // The console must fit the smallest supported window (issue 17): no sideways
                // scrolling, titles on one line beside or above their actions, dialogs inside.
                assert!(
                    facts.squeezed_titles.is_empty(),
                    "{name} squeezes its title: {:?}",
                    facts.squeezed_titles
                );
                assert_eq!(
                    facts.overflow, 0,
                    "{name} scrolls sideways by {} px",
                    facts.overflow
                );
                assert!(
                    facts.broken_words.is_empty(),
                    "{name} breaks words inside: {:?}",
                    facts.broken_words
                );
                assert!(
                    facts.clipped_dialogs.is_empty(),
                    "{name} has a dialog past the window's edge: {:?}",
                    facts.clipped_dialogs
                );
                if language != "en" {
                    let text = self.eval("document.body.innerText").await;
                    assert!(
                        text.as_str().unwrap_or("").contains(chinese),
                        "{name} does not show {chinese:?}: {text}"
                    );
                }
            }
        }
        self.switch_language("en").await;
        let (w, h) = (
            start[0].as_u64().unwrap_or(1280),
            start[1].as_u64().unwrap_or(800),
        );
        self.set_viewport(w as u32, h as u32).await;
    }
}
