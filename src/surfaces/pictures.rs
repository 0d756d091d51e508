//! Decoding the pictures clients upload (care snapshots and portraits, music covers and
//! avatars): a picture is accepted only when it decodes completely as JPEG or PNG.
//!
//! A small compressed file can claim a huge canvas (a PNG of a few hundred KB can decode
//! to half a gigabyte), so decoding is bounded twice: by the canvas a picture may claim and
//! the memory its decoder may take, and by how many pictures decode at once, so that a
//! burst of uploads cannot take a small box's memory.

use std::io::Cursor;
use std::sync::{Condvar, LazyLock, Mutex};

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// Longest side a picture may claim: a 100-megapixel photograph fits.
pub const MAX_SIDE: u32 = 12_000;
/// Memory one decode may allocate.
pub const MAX_DECODE_BYTES: u64 = 160 * 1024 * 1024;

/// Decodes running at once, at most; the others wait their turn on their blocking thread.
static DECODING: LazyLock<Gate> =
    LazyLock::new(|| Gate::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

struct Gate {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Gate {
    fn new(slots: usize) -> Gate {
        Gate { free: Mutex::new(slots), freed: Condvar::new() }
    }

    fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        let mut free = self
            .freed
            .wait_while(self.free.lock().unwrap_or_else(|p| p.into_inner()), |n| *n == 0)
            .unwrap_or_else(|p| p.into_inner());
        *free -= 1;
        drop(free);
        // Give the slot back even if the decoder panics.
        struct Release<'a>(&'a Gate);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
                self.0.freed.notify_one();
            }
        }
        let _release = Release(self);
        work()
    }
}

/// Why a picture was refused, in words a client can act on.
#[derive(Debug, PartialEq)]
pub enum Refused {
    NotJpegOrPng,
    Undecodable(String),
}

/// The picture's format and pixels, if it is a JPEG or PNG that decodes completely within
/// the limits. CPU work: call it on a blocking thread.
pub fn decode(bytes: &[u8]) -> Result<(ImageFormat, DynamicImage), Refused> {
    let format = image::guess_format(bytes)
        .ok()
        .filter(|f| matches!(f, ImageFormat::Jpeg | ImageFormat::Png))
        .ok_or(Refused::NotJpegOrPng)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let picture = DECODING.run(|| reader.decode()).map_err(|e| Refused::Undecodable(e.to_string()))?;
    Ok((format, picture))
}

/// The file extension a decoded picture is stored under.
pub fn extension(format: ImageFormat) -> &'static str {
    if format == ImageFormat::Jpeg {
        "jpg"
    } else {
        "png"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::GrayImage::new(width, height).write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_small_file_claiming_a_huge_canvas_is_refused_without_decoding_it() {
        // 13 000 × 13 000 black pixels (169 MB as grey, 507 MB as RGB) compress to about 1 MB.
        let bomb = png(13_000, 13_000);
        assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
        assert!(matches!(decode(&bomb), Err(Refused::Undecodable(_))));
        let (format, picture) = decode(&png(640, 480)).unwrap();
        assert_eq!((extension(format), picture.width(), picture.height()), ("png", 640, 480));
        assert_eq!(decode(b"GIF89a").unwrap_err(), Refused::NotJpegOrPng);
    }

    #[test]
    fn the_gate_lets_a_bounded_number_of_decodes_run_at_once() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let gate = Gate::new(2);
        let (running, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    gate.run(|| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                });
            }
        });
        let most = most.load(Ordering::SeqCst);
        assert!((1..=2).contains(&most), "{most} decodes ran at once");
    }
}
