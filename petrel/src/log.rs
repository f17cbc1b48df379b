//! The console logger: `log::info!` and friends print one line each on the console, as
//! `2026-11-23T20:30:00-00:00: [INFO] [hello] Hello world!` (mirage's format).

use core::fmt::Write;

use log::{LevelFilter, Log, Metadata, Record};
/// The `log` macros, so that unikernels can log without depending on `log` themselves.
pub use log::{debug, error, info, trace, warn};

struct ConsoleLogger;

static LOGGER: ConsoleLogger = ConsoleLogger;

/// Installs the console logger at the level `--solo5:LEVEL` chose (info by default). Called once by the generated entry point; a
/// second call keeps the first logger.
pub fn init(level: Option<petrel_bootvar::LogLevel>) {
    use petrel_bootvar::LogLevel;
    // Info unless `--solo5:LEVEL` said otherwise, as with Solo5's own bindings.
    let level = match level {
        Some(LogLevel::Quiet) => LevelFilter::Off,
        Some(LogLevel::Error) => LevelFilter::Error,
        Some(LogLevel::Warn) => LevelFilter::Warn,
        Some(LogLevel::Info) | None => LevelFilter::Info,
        Some(LogLevel::Debug) => LevelFilter::Debug,
    };
    // Only fails if a logger is already set, which then stays in place.
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

impl Log for ConsoleLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let mut line = alloc::string::String::new();
        write_timestamp(&mut line, petrel_clock::wall_ns());
        // Writing to a String cannot fail.
        let _ = writeln!(
            line,
            ": [{}] [{}] {}",
            record.level(),
            record.target(),
            record.args()
        );
        petrel_console::write(line.as_bytes());
    }

    fn flush(&self) {}
}

/// Writes `ns` since the epoch as RFC 3339 UTC with mirage's `-00:00` offset.
fn write_timestamp(out: &mut alloc::string::String, ns: u64) {
    let secs = ns / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}-00:00",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_timestamps() {
        let mut s = alloc::string::String::new();
        write_timestamp(&mut s, 0);
        assert_eq!(s, "1970-01-01T00:00:00-00:00");
        s.clear();
        // 2026-11-23T20:30:05Z
        write_timestamp(&mut s, 1_795_465_805 * 1_000_000_000);
        assert_eq!(s, "2026-11-23T20:30:05-00:00");
        s.clear();
        // 2000-02-29T23:59:59Z, a leap day
        write_timestamp(&mut s, 951_868_799 * 1_000_000_000);
        assert_eq!(s, "2000-02-29T23:59:59-00:00");
    }
}
