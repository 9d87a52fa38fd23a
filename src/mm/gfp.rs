//! `gfp_t` bits (`include/linux/gfp.h`, 2.6.32, with `__GFP_WRITE` of 3.3): what an allocation
//! may do to find a page (sleep, start IO, enter the filesystem) and where it may take it.

/// `__GFP_WAIT`.
pub const WAIT: u32 = 0x10;
/// `__GFP_HIGH`.
pub const HIGH: u32 = 0x20;
/// `__GFP_IO`.
pub const IO: u32 = 0x40;
/// `__GFP_FS`.
pub const FS: u32 = 0x80;
/// `__GFP_NORETRY`.
pub const NORETRY: u32 = 0x1000;
/// `__GFP_WRITE` [3.3+]: a page-cache allocation that will be dirtied.
pub const WRITE: u32 = 0x100_0000;
/// `__GFP_HARDWALL`.
pub const HARDWALL: u32 = 0x20000;
/// `__GFP_HIGHMEM`.
pub const HIGHMEM: u32 = 0x02;
/// `__GFP_MOVABLE`.
pub const MOVABLE: u32 = 0x08;
/// `GFP_NOFS`.
pub const GFP_NOFS: u32 = WAIT | IO;
/// `GFP_KERNEL`.
pub const GFP_KERNEL: u32 = WAIT | IO | FS;
/// `GFP_USER`.
pub const GFP_USER: u32 = GFP_KERNEL | HARDWALL;
/// `GFP_HIGHUSER_MOVABLE`: page cache and user anonymous memory.
pub const GFP_HIGHUSER_MOVABLE: u32 = GFP_USER | HIGHMEM | MOVABLE;
