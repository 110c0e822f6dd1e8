//! Quoting names and values into the texts PostgreSQL and a shell read, in one place for
//! the engine, its remedies and the test kit: each text has its own rule, and a rule
//! written four times had drifted (the sandbox's literals were only right while
//! `standard_conforming_strings` is on).

pub mod conf;
pub mod hba;
pub mod shell;
pub mod sql;
