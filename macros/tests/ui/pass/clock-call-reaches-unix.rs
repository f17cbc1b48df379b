// An interface function call reaches the linked implementation: the unix wall clock.
use petrel_clock_unix as _;

fn main() {
    let ns = petrel_clock::wall_ns();
    // After 2020-01-01T00:00:00Z.
    assert!(ns > 1_577_836_800_000_000_000, "wall_ns() = {ns}");
}
