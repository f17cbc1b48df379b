//! Time: the TSC calibrated against the PIT (monotonic), the CMOS RTC (wall clock) and the
//! PIT one-shot that ends an idle `hlt`.
//!
//! KVM's pvclock is not used: under QEMU TCG (the only accelerator the project tests with)
//! CPUID offers no KVM leaves, and QEMU's TCG TSC runs at a constant rate from the host
//! clock, also while the guest halts.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::cpu::{inb, outb, rdtsc};

/// The PIT's input clock, in Hz.
const PIT_HZ: u64 = 1_193_182;

/// TSC value at boot (the origin of the monotonic clock).
static TSC_ORIGIN: AtomicU64 = AtomicU64::new(0);
/// Nanoseconds per TSC tick, as a 32.32 fixed-point number.
static NS_PER_TICK_32: AtomicU64 = AtomicU64::new(0);
/// TSC frequency, in Hz.
static TSC_HZ: AtomicU64 = AtomicU64::new(0);
/// Wall-clock nanoseconds at monotonic time 0.
static WALL_AT_ORIGIN: AtomicU64 = AtomicU64::new(0);

/// Measures the TSC frequency against the PIT (channel 2, 50 ms) and reads the RTC. Call
/// once at boot, with interrupts off.
pub fn init() {
    // Channel 2 counts down from `count` in mode 0; its output (port 0x61 bit 5) goes high at
    // zero. Its gate is port 0x61 bit 0; bit 1 (the speaker) stays off.
    let count: u16 = 59_659; // 50 ms
    let p61 = inb(0x61);
    outb(0x61, (p61 & !0x02) | 0x01);
    outb(0x43, 0b1011_0000); // channel 2, lobyte/hibyte, mode 0, binary
    outb(0x42, count as u8);
    outb(0x42, (count >> 8) as u8);
    let t0 = rdtsc();
    let mut t1 = t0;
    // Bounded: if the PIT never answers, fall back to the loop's own duration (~ a few ms).
    for _ in 0..100_000_000u32 {
        t1 = rdtsc();
        if inb(0x61) & 0x20 != 0 {
            break;
        }
    }
    outb(0x61, p61);
    let ticks = (t1 - t0).max(1);
    let hz = (u128::from(ticks) * u128::from(PIT_HZ) / u128::from(count)) as u64;
    let hz = hz.max(1_000_000);
    TSC_HZ.store(hz, Ordering::Relaxed);
    NS_PER_TICK_32.store(((1_000_000_000u128 << 32) / u128::from(hz)) as u64, Ordering::Relaxed);
    TSC_ORIGIN.store(rdtsc(), Ordering::Relaxed);
    let wall = rtc_unix_seconds().saturating_mul(1_000_000_000);
    WALL_AT_ORIGIN.store(wall, Ordering::Relaxed);
}

/// The calibrated TSC frequency, in Hz.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Monotonic nanoseconds since [`init`].
pub fn monotonic_ns() -> u64 {
    let delta = rdtsc().wrapping_sub(TSC_ORIGIN.load(Ordering::Relaxed));
    ((u128::from(delta) * u128::from(NS_PER_TICK_32.load(Ordering::Relaxed))) >> 32) as u64
}

/// Wall-clock nanoseconds since the Unix epoch: the RTC at boot plus the monotonic time
/// since.
pub fn wall_ns() -> u64 {
    WALL_AT_ORIGIN.load(Ordering::Relaxed).saturating_add(monotonic_ns())
}

/// Arms the PIT (channel 0, mode 0: interrupt on terminal count) to raise IRQ 0 after
/// `ns` nanoseconds, clamped to 1 tick .. 65535 ticks (about 55 ms). Returns the ticks armed.
pub fn arm_oneshot(ns: u64) -> u16 {
    let ticks = (u128::from(ns) * u128::from(PIT_HZ)).div_ceil(1_000_000_000);
    let ticks = ticks.clamp(1, 0xFFFF) as u16;
    outb(0x43, 0b0011_0000); // channel 0, lobyte/hibyte, mode 0, binary
    outb(0x40, ticks as u8);
    outb(0x40, (ticks >> 8) as u8);
    ticks
}

fn cmos(reg: u8) -> u8 {
    // Bit 7 of the index port keeps NMIs disabled while we read.
    outb(0x70, 0x80 | reg);
    inb(0x71)
}

/// The RTC's date and time, read twice until stable, as Unix seconds (the RTC is taken to
/// be UTC, as QEMU's default `-rtc base=utc` sets it).
fn rtc_unix_seconds() -> u64 {
    fn raw() -> [u8; 7] {
        // Wait for the end of an update cycle (status A bit 7), boundedly.
        for _ in 0..1_000_000 {
            if cmos(0x0A) & 0x80 == 0 {
                break;
            }
        }
        [cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09), cmos(0x32)]
    }
    let mut r = raw();
    for _ in 0..10 {
        let again = raw();
        if again == r {
            break;
        }
        r = again;
    }
    let status_b = cmos(0x0B);
    let binary = status_b & 0x04 != 0;
    let h24 = status_b & 0x02 != 0;
    let dec = |v: u8| if binary { u64::from(v) } else { u64::from((v & 0x0F) + (v >> 4) * 10) };
    let sec = dec(r[0]);
    let min = dec(r[1]);
    let pm = !h24 && r[2] & 0x80 != 0;
    let mut hour = dec(r[2] & 0x7F);
    if !h24 {
        hour %= 12;
        if pm {
            hour += 12;
        }
    }
    let day = dec(r[3]);
    let month = dec(r[4]);
    let century = match dec(r[6]) {
        c @ 19..=21 => c,
        _ => 20,
    };
    let year = century * 100 + dec(r[5]);
    days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec
}

/// Days from 1970-01-01 to the given proleptic Gregorian date (years >= 1970).
pub fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let (y, m) = if month <= 2 { (year - 1, month + 9) } else { (year, month - 3) };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::days_from_civil;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 23), 20_780);
    }
}
