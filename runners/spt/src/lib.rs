//! Solo5 spt runner (see README).
