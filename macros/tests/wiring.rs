//! End to end through the linker: calling an interface's free function reaches the linked
//! implementation's trait impl, through the symbol that `#[interface]` declares and the shim
//! that `#[implements]` exports.

// Link the implementations (nothing else names them).
use petrel_clock_unix as _;
use petrel_random_unix as _;
use petrel_time_unix as _;

#[test]
fn clock_call_reaches_the_unix_implementation() {
    let ns = petrel_clock::wall_ns();
    // 2020-01-01T00:00:00Z, and a century later: a plausible reading of the host's clock.
    assert!(ns > 1_577_836_800_000_000_000, "wall_ns() = {ns}");
    assert!(ns < 4_733_510_400_000_000_000, "wall_ns() = {ns}");
    let std_ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    assert!(
        std_ns.abs_diff(u128::from(ns)) < 60_000_000_000,
        "wall_ns() = {ns}, std = {std_ns}"
    );
}

#[test]
fn time_call_is_monotonic() {
    let a = petrel_time::now_ns();
    let b = petrel_time::now_ns();
    assert!(b >= a);
}

#[test]
fn random_fill_through_a_reference_argument() {
    let mut buf = [0u8; 64];
    petrel_random::fill(&mut buf);
    // 64 zero bytes from getrandom(2) has probability 2^-512.
    assert_ne!(buf, [0u8; 64]);
}
