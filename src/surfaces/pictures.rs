//! Decoding the pictures clients upload (care snapshots and portraits, music covers and
//! avatars): a picture is accepted only when its structure shows a whole JPEG or PNG within
//! the limits (`jpeg.rs`, `png.rs`) and it then decodes completely, or, for the JPEGs whose
//! every Huffman code the structure walk has followed (`entropy.rs`), without decoding.
//!
//! A small compressed file can claim a huge canvas (a PNG of a few hundred KB can decode
//! to half a gigabyte), so decoding is bounded twice: by the canvas a picture may claim and
//! the memory its decoder may take, and by how many pictures decode at once, so that a
//! burst of uploads cannot take a small box's memory.

use std::io::Cursor;
use std::sync::{Condvar, LazyLock, Mutex};

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

mod entropy;
mod jpeg;
mod png;
#[cfg(test)]
mod walk_tests;

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

/// The canvas a picture's header declares, before anything is decoded.
pub struct Canvas {
    width: u32,
    height: u32,
    /// In the decoded picture.
    bytes_per_pixel: u64,
    /// The walk followed all the picture's coded data, which proves it whole: decoding
    /// its pixels would prove nothing more.
    whole: bool,
}

/// Why a picture's structure shows it is not a whole picture.
pub enum Walk {
    Broken(String),
}

/// The format a picture's first bytes announce, if JPEG or PNG.
pub fn jpeg_or_png(bytes: &[u8]) -> Result<ImageFormat, Refused> {
    image::guess_format(bytes)
        .ok()
        .filter(|f| matches!(f, ImageFormat::Jpeg | ImageFormat::Png))
        .ok_or(Refused::NotJpegOrPng)
}

/// Whether a canvas is within the limits a decode has; checked as soon as a header is
/// read, so that nothing is walked or decoded for a picture too large to keep.
fn fits(canvas: &Canvas) -> Result<(), Walk> {
    if canvas.width > MAX_SIDE || canvas.height > MAX_SIDE {
        return Err(Walk::Broken(format!("the picture is larger than {MAX_SIDE} pixels on a side")));
    }
    if canvas.width as u64 * canvas.height as u64 * canvas.bytes_per_pixel > MAX_DECODE_BYTES {
        return Err(Walk::Broken(format!("the picture would take more than {} MiB", MAX_DECODE_BYTES >> 20)));
    }
    Ok(())
}

/// The picture's format, if its structure shows a whole JPEG or PNG whose canvas is within
/// the limits a decode has (`jpeg.rs`, `png.rs`): cheap, it refuses a bomb or a broken file
/// before any decoding, and a file cut short that a lenient decoder would fill in. With it,
/// whether the walk proved the picture whole.
fn structure(bytes: &[u8]) -> Result<(ImageFormat, bool), Refused> {
    let format = jpeg_or_png(bytes)?;
    let canvas = match format {
        ImageFormat::Jpeg => jpeg::check(bytes),
        _ => png::check(bytes),
    };
    let canvas = canvas.map_err(|Walk::Broken(why)| Refused::Undecodable(why))?;
    Ok((format, canvas.whole))
}

/// The picture's format, if it is a whole JPEG or PNG within the limits: proved by its
/// structure walk and read by the decoder as far as its headers, or else decoded
/// completely. CPU work: call it on a blocking thread.
pub fn verify(bytes: &[u8]) -> Result<ImageFormat, Refused> {
    let (format, whole) = structure(bytes)?;
    if whole {
        // What the decoder refuses in markers, tables or frame, a picture is refused for
        // too: the walk proves it whole, the decoder's headers that it can be read.
        reader(bytes, format).into_decoder().map_err(|e| Refused::Undecodable(e.to_string()))?;
    } else {
        pixels(bytes, format)?;
    }
    Ok(format)
}

/// The picture's format and pixels, if it is a whole JPEG or PNG that decodes completely
/// within the limits. CPU work: call it on a blocking thread.
pub fn decode(bytes: &[u8]) -> Result<(ImageFormat, DynamicImage), Refused> {
    let (format, _) = structure(bytes)?;
    Ok((format, pixels(bytes, format)?))
}

/// Decodes a picture whose structure was checked.
fn pixels(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, Refused> {
    let reader = reader(bytes, format);
    DECODING.run(|| reader.decode()).map_err(|e| Refused::Undecodable(e.to_string()))
}

fn reader(bytes: &[u8], format: ImageFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    reader
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

    fn jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, (x ^ y) as u8]))
            .write_to(&mut out, ImageFormat::Jpeg)
            .unwrap();
        out.into_inner()
    }

    fn refused(bytes: &[u8]) -> String {
        match verify(bytes) {
            Err(Refused::Undecodable(why)) => why,
            other => panic!("accepted or misread: {other:?}"),
        }
    }

    #[test]
    fn whole_pictures_are_verified_and_broken_ones_refused() {
        let (picture, colour) = (jpeg(300, 200), png(300, 200));
        assert_eq!(verify(&picture), Ok(ImageFormat::Jpeg));
        assert_eq!(verify(&colour), Ok(ImageFormat::Png));
        let mut grey = Cursor::new(Vec::new());
        image::GrayImage::from_fn(33, 17, |x, _| image::Luma([x as u8 * 7]))
            .write_to(&mut grey, ImageFormat::Jpeg)
            .unwrap();
        assert_eq!(verify(&grey.into_inner()), Ok(ImageFormat::Jpeg));

        // Cut anywhere, neither is whole.
        for cut in [picture.len() - 1, picture.len() - 2, picture.len() / 2, 200, 20, 3] {
            assert!(verify(&picture[..cut]).is_err(), "JPEG cut at {cut}");
        }
        for cut in [colour.len() - 1, colour.len() - 12, colour.len() / 2, 40, 9] {
            assert!(verify(&colour[..cut]).is_err(), "PNG cut at {cut}");
        }
        // A JPEG whose end-of-image marker is something else.
        let mut bad_marker = picture.clone();
        *bad_marker.last_mut().unwrap() = 0xD8;
        assert!(refused(&bad_marker).contains("out of place"));
        // A JPEG whose scan is missing (start of scan turned into a comment).
        let sos = picture.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let mut no_scan = picture.clone();
        no_scan[sos + 1] = 0xFE;
        assert!(verify(&no_scan).is_err());
        // A PNG with one byte of its image data changed: the CRC catches it.
        let idat = colour.windows(4).position(|w| w == b"IDAT").unwrap();
        let mut bad_crc = colour.clone();
        bad_crc[idat + 10] ^= 0x55;
        assert!(refused(&bad_crc).contains("CRC"));
        // The same change with its CRC made right: the inflate or the scanlines catch it.
        let len = u32::from_be_bytes(colour[idat - 4..idat].try_into().unwrap()) as usize;
        let crc = crc32fast::hash(&bad_crc[idat..idat + 4 + len]).to_be_bytes();
        bad_crc[idat + 4 + len..idat + 8 + len].copy_from_slice(&crc);
        assert!(verify(&bad_crc).is_err(), "changed image data with a right CRC");
        // A PNG header changed to claim more rows than its data holds (CRC made right).
        let mut taller = colour.clone();
        taller[20..24].copy_from_slice(&201u32.to_be_bytes());
        let crc = crc32fast::hash(&taller[12..29]).to_be_bytes();
        taller[29..33].copy_from_slice(&crc);
        assert!(refused(&taller).contains("cut short"));
    }

    #[test]
    fn a_jpeg_without_huffman_tables_passes_the_walk_as_camera_frames_do() {
        let picture = jpeg(40, 30);
        let mut frame = picture[..2].to_vec();
        let mut at = 2;
        // Copy every segment but the Huffman tables, up to the start of scan.
        while picture[at + 1] != 0xDA {
            let len = u16::from_be_bytes([picture[at + 2], picture[at + 3]]) as usize;
            if picture[at + 1] != 0xC4 {
                frame.extend_from_slice(&picture[at..at + 2 + len]);
            }
            at += 2 + len;
        }
        frame.extend_from_slice(&picture[at..]);
        assert!(frame.len() < picture.len());
        // Without tables of its own its scan is not walked: the decoder, which knows the
        // standard tables, judges it.
        assert_eq!(structure(&frame), Ok((ImageFormat::Jpeg, false)));
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
