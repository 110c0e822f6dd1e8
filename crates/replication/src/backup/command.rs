//! The BASE_BACKUP command text, in the dialect of the source's version.

use crate::version::{BaseBackupSyntax, ServerVersion};

use super::options::Compression;

/// Label recorded in `backup_label` and `pg_stat_progress_basebackup`.
pub const LABEL: &str = "pgrelocate base backup";

/// What goes into the command beyond the fixed choices (fast checkpoint, no WAL, no wait
/// for archiving: the slot keeps the WAL the standby needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandOptions {
    /// Server-side compression (15+ only).
    pub compression: Compression,
    /// Throttle in kB/s (the server accepts 32..=1048576).
    pub max_rate_kb: Option<u32>,
}

/// `BASE_BACKUP …` for `version`. Callers validate compression against the version first.
pub fn base_backup_command(version: ServerVersion, options: &CommandOptions) -> String {
    let label = LABEL.replace('\'', "''");
    match version.base_backup_syntax() {
        BaseBackupSyntax::Keywords { manifest } => {
            let mut cmd = format!("BASE_BACKUP LABEL '{label}' PROGRESS FAST NOWAIT");
            if let Some(rate) = options.max_rate_kb {
                cmd.push_str(&format!(" MAX_RATE {rate}"));
            }
            if manifest {
                cmd.push_str(" MANIFEST 'yes' MANIFEST_CHECKSUMS 'CRC32C'");
            }
            cmd
        }
        BaseBackupSyntax::OptionList => {
            let mut cmd = format!(
                "BASE_BACKUP (LABEL '{label}', PROGRESS, CHECKPOINT 'fast', WAIT false, \
                 MANIFEST 'yes', MANIFEST_CHECKSUMS 'CRC32C', TARGET 'client'"
            );
            if let Some(method) = options.compression.server_method() {
                cmd.push_str(&format!(", COMPRESSION '{method}'"));
            }
            if let Some(rate) = options.max_rate_kb {
                cmd.push_str(&format!(", MAX_RATE {rate}"));
            }
            cmd.push(')');
            cmd
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_version_gets_its_dialect() {
        let plain = CommandOptions {
            compression: Compression::None,
            max_rate_kb: None,
        };
        assert_eq!(
            base_backup_command(ServerVersion::new(10, 23), &plain),
            "BASE_BACKUP LABEL 'pgrelocate base backup' PROGRESS FAST NOWAIT"
        );
        assert_eq!(
            base_backup_command(
                ServerVersion::new(14, 1),
                &CommandOptions {
                    max_rate_kb: Some(1024),
                    ..plain
                }
            ),
            "BASE_BACKUP LABEL 'pgrelocate base backup' PROGRESS FAST NOWAIT MAX_RATE 1024 \
             MANIFEST 'yes' MANIFEST_CHECKSUMS 'CRC32C'"
        );
        assert_eq!(
            base_backup_command(
                ServerVersion::new(16, 2),
                &CommandOptions {
                    compression: Compression::Zstd,
                    max_rate_kb: Some(32)
                }
            ),
            "BASE_BACKUP (LABEL 'pgrelocate base backup', PROGRESS, CHECKPOINT 'fast', \
             WAIT false, MANIFEST 'yes', MANIFEST_CHECKSUMS 'CRC32C', TARGET 'client', \
             COMPRESSION 'zstd', MAX_RATE 32)"
        );
    }
}
