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

/// Measures the TSC frequency against the PIT and reads the RTC. Call once at boot, with
/// interrupts off.
pub fn init() {
    // One 5 ms window: the error is about one PIT tick in 5966 (0.02 %), and boot stays fast
    // (three 20 ms windows made time-to-first-line twice a minimal kernel's). Each sample pair
    // is already the tightest of five reads, which guards against a descheduled vCPU.
    let hz = calibrate_once().max(1_000_000);
    TSC_HZ.store(hz, Ordering::Relaxed);
    NS_PER_TICK_32.store(
        ((1_000_000_000u128 << 32) / u128::from(hz)) as u64,
        Ordering::Relaxed,
    );
    TSC_ORIGIN.store(rdtsc(), Ordering::Relaxed);
    let wall = rtc_unix_seconds().saturating_mul(1_000_000_000);
    WALL_AT_ORIGIN.store(wall, Ordering::Relaxed);
}

/// Latches and reads PIT channel 2's counter.
fn pit2_count() -> u16 {
    outb(0x43, 0b1000_0000); // latch channel 2
    let lo = inb(0x42);
    let hi = inb(0x42);
    u16::from_le_bytes([lo, hi])
}

/// A (TSC, PIT count) pair read as close together as we can: the best of five tries, judged
/// by how many TSC ticks the PIT read took. A virtual CPU can be descheduled by its host at
/// any time; a pair that straddles such a gap would skew the calibration.
fn sample() -> (u64, u16) {
    let mut best = (u64::MAX, 0, 0);
    for _ in 0..5 {
        let a = rdtsc();
        let c = pit2_count();
        let b = rdtsc();
        if b - a < best.0 {
            best = (b - a, a + (b - a) / 2, c);
        }
    }
    (best.1, best.2)
}

/// One calibration: PIT channel 2 counts down from 0xFFFF (mode 0, gate on, speaker off);
/// two (TSC, count) samples about 5 ms apart give the TSC frequency.
fn calibrate_once() -> u64 {
    const WINDOW: u16 = 5_966; // 5 ms of PIT ticks (1 193 182 Hz)
    let p61 = inb(0x61);
    outb(0x61, (p61 & !0x02) | 0x01);
    outb(0x43, 0b1011_0000); // channel 2, lobyte/hibyte, mode 0, binary
    outb(0x42, 0xFF);
    outb(0x42, 0xFF);
    let (t0, c0) = sample();
    let mut last = (t0, c0);
    // Bounded: a PIT that does not count ends the loop after about as many reads.
    for _ in 0..10_000_000u32 {
        last = sample();
        if c0.wrapping_sub(last.1) >= WINDOW {
            break;
        }
    }
    outb(0x61, p61);
    let (t1, c1) = last;
    let ticks = u64::from(c0.wrapping_sub(c1)).max(1);
    (u128::from(t1.wrapping_sub(t0)) * u128::from(PIT_HZ) / u128::from(ticks)) as u64
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
    WALL_AT_ORIGIN
        .load(Ordering::Relaxed)
        .saturating_add(monotonic_ns())
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
        [
            cmos(0x00),
            cmos(0x02),
            cmos(0x04),
            cmos(0x07),
            cmos(0x08),
            cmos(0x09),
            cmos(0x32),
        ]
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
    let dec = |v: u8| {
        if binary {
            u64::from(v)
        } else {
            u64::from((v & 0x0F) + (v >> 4) * 10)
        }
    };
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
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
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
