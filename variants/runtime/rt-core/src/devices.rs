//! What acquiring a manifest device can fail with, on every freestanding target whose
//! platform binds drivers to the image's manifest (virtio, xen).

/// Why a device could not be acquired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcquireError {
    /// The manifest has no device with that name (or handle).
    NotFound,
    /// The manifest entry has another type.
    WrongType,
    /// Already acquired (each device can be acquired once).
    Busy,
}
