//! The marked block of carried rules at the top of the destination's `pg_hba.conf` (first
//! match wins, so it precedes the rules that would refuse those clients):
//!
//! ```text
//! # BEGIN pgrelocate access rules (task <id>)
//! # sha256 <digest of the rules below>; remove with: pgrelocate access undo <id>
//! host all all 10.0.0.0/8 scram-sha-256
//! # END pgrelocate access rules (task <id>)
//! ```
//!
//! Inserting puts the block before the file's first byte, so removing exactly those bytes
//! gives the file back byte for byte. A block whose rules no longer match its digest was
//! edited by hand: it is reported, never rewritten or removed.

use sha2::{Digest, Sha256};

/// The block's first line.
pub fn begin(task: &str) -> String {
    format!("# BEGIN pgrelocate access rules (task {task})")
}

/// The block's last line.
pub fn end(task: &str) -> String {
    format!("# END pgrelocate access rules (task {task})")
}

const DIGEST_PREFIX: &str = "# sha256 ";

fn digest(lines: &[String]) -> String {
    let mut h = Sha256::new();
    for l in lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// The block as text (every line ends in `\n`).
pub fn render(task: &str, lines: &[String]) -> String {
    let mut out = begin(task);
    out.push('\n');
    out.push_str(&format!(
        "{DIGEST_PREFIX}{}; remove with: pgrelocate access undo {task}\n",
        digest(lines)
    ));
    for l in lines {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str(&end(task));
    out.push('\n');
    out
}

/// A block found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Byte range of the block (its `BEGIN` line to its `END` line's newline included).
    pub range: std::ops::Range<usize>,
    /// The rule lines inside it.
    pub lines: Vec<String>,
}

/// Why a block cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// `BEGIN` without its `END` (or twice).
    #[error("the pgrelocate access block of task {task} in pg_hba.conf is malformed ({what}); fix or remove it by hand")]
    Malformed {
        /// The task.
        task: String,
        /// What is wrong.
        what: &'static str,
    },
    /// Its rules differ from what pgrelocate wrote.
    #[error("the pgrelocate access block of task {task} in pg_hba.conf was edited by hand; it is left alone: remove the block by hand (its BEGIN to END lines) or restore it")]
    HandEdited {
        /// The task.
        task: String,
    },
}

/// Finds the task's block in `text`.
pub fn find(text: &str, task: &str) -> Result<Option<Block>, BlockError> {
    let (b, e) = (begin(task), end(task));
    let malformed = |what: &'static str| BlockError::Malformed {
        task: task.to_string(),
        what,
    };
    // Each line: its byte offset, its length with the newline, its text without it.
    let mut lines: Vec<(usize, usize, String)> = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']).to_string();
        lines.push((at, line.len(), bare));
        at += line.len();
    }
    let mut starts = Vec::new();
    let mut ends = Vec::new();
    for (i, (_, _, l)) in lines.iter().enumerate() {
        if *l == b {
            starts.push(i);
        } else if *l == e {
            ends.push(i);
        }
    }
    match (starts.len(), ends.len()) {
        (0, 0) => Ok(None),
        (1, 1) if starts[0] < ends[0] => {
            let (s, t) = (starts[0], ends[0]);
            let inner: Vec<String> = lines[s + 1..t].iter().map(|l| l.2.clone()).collect();
            let Some((first, rules)) = inner.split_first() else {
                return Err(malformed("no digest line"));
            };
            let rules = rules.to_vec();
            let expected = format!("{DIGEST_PREFIX}{}", digest(&rules));
            if !first.starts_with(&expected) {
                return Err(BlockError::HandEdited {
                    task: task.to_string(),
                });
            }
            Ok(Some(Block {
                range: lines[s].0..lines[t].0 + lines[t].1,
                lines: rules,
            }))
        }
        (0, _) => Err(malformed("an END line without BEGIN")),
        (_, 0) => Err(malformed("a BEGIN line without END")),
        _ => Err(malformed("more than one block, or END before BEGIN")),
    }
}

/// `text` with the task's block (replacing the one there) at its top.
pub fn insert(text: &str, task: &str, lines: &[String]) -> Result<String, BlockError> {
    let rest = remove(text, task)?;
    Ok(format!("{}{rest}", render(task, lines)))
}

/// `text` without the task's block (unchanged when there is none).
pub fn remove(text: &str, task: &str) -> Result<String, BlockError> {
    Ok(match find(text, task)? {
        Some(b) => format!("{}{}", &text[..b.range.start], &text[b.range.end..]),
        None => text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "# own\nlocal all all peer\nhost all all 127.0.0.1/32 md5"; // no final newline

    #[test]
    fn insert_then_remove_gives_the_file_back_byte_for_byte() {
        let lines = vec!["host all all 10.0.0.0/8 md5".to_string()];
        let with = insert(FILE, "t1", &lines).unwrap();
        assert!(with.starts_with("# BEGIN pgrelocate access rules (task t1)\n# sha256 "));
        assert!(with.ends_with(FILE));
        let b = find(&with, "t1").unwrap().unwrap();
        assert_eq!(b.lines, lines);
        assert_eq!(find(&with, "t2").unwrap(), None);
        // Applying again replaces the block, never repeats it.
        let again = insert(&with, "t1", &["host all all 10.1.0.0/16 md5".into()]).unwrap();
        assert_eq!(again.matches("# BEGIN").count(), 1);
        assert_eq!(remove(&again, "t1").unwrap(), FILE);
        assert_eq!(remove(FILE, "t1").unwrap(), FILE);
    }

    #[test]
    fn a_hand_edited_or_broken_block_is_refused() {
        let with = insert(FILE, "t1", &["host all all 10.0.0.0/8 md5".into()]).unwrap();
        let edited = with.replace("10.0.0.0/8 md5", "10.0.0.0/8 trust");
        assert!(matches!(
            find(&edited, "t1"),
            Err(BlockError::HandEdited { .. })
        ));
        assert!(matches!(
            remove(&edited, "t1"),
            Err(BlockError::HandEdited { .. })
        ));
        let cut = with.replace(&end("t1"), "");
        assert!(matches!(
            find(&cut, "t1"),
            Err(BlockError::Malformed { .. })
        ));
    }
}
