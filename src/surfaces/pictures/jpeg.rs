//! A JPEG proved whole without decoding its pixels: every segment in bounds, one frame of a
//! kind the decoder reads (baseline, extended or progressive, 8-bit) with its size within
//! the limits, its quantization tables defined before its scans, Huffman tables well formed, every component in some scan,
//! each scan's entropy-coded data present, and the file ending in EOI.

use super::{Canvas, Walk};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DQT: u8 = 0xDB;
const DHT: u8 = 0xC4;

struct Frame {
    /// (id, quantization table) per component.
    components: Vec<(u8, u8)>,
    progressive: bool,
}

pub fn check(bytes: &[u8]) -> Result<Canvas, Walk> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != SOI {
        return Err(Walk::Broken("no JPEG start of image".into()));
    }
    let mut at = 2;
    let mut frame: Option<Frame> = None;
    let mut canvas = None;
    // Bit i: quantization table i is defined.
    let mut quant = 0u8;
    let mut scanned = 0u8;
    loop {
        let marker = next_marker(bytes, &mut at)?;
        match marker {
            EOI => {
                let (Some(frame), Some(canvas)) = (frame, canvas) else {
                    return Err(Walk::Broken("the JPEG ends before its image".into()));
                };
                let all = frame.components.iter().enumerate().fold(0u8, |m, (i, _)| m | 1 << i);
                if scanned != all {
                    return Err(Walk::Broken("a JPEG component has no image data".into()));
                }
                return Ok(canvas);
            }
            SOI | 0xD0..=0xD7 => return Err(Walk::Broken(format!("JPEG marker {marker:02X} out of place"))),
            0x01 => continue,
            _ => {}
        }
        let segment = segment(bytes, &mut at)?;
        match marker {
            0xC0..=0xC2 => {
                if frame.is_some() {
                    return Err(Walk::Broken("a JPEG with two frames".into()));
                }
                let (f, c) = start_of_frame(segment, marker == 0xC2)?;
                frame = Some(f);
                canvas = Some(c);
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(Walk::Broken("lossless, hierarchical and arithmetic-coded JPEGs are not read".into()))
            }
            DHT => huffman_tables(segment)?,
            DQT => quantization_tables(segment, &mut quant)?,
            SOS => {
                let frame = frame.as_ref().ok_or_else(|| Walk::Broken("a JPEG scan before its frame".into()))?;
                if frame.components.iter().any(|(_, q)| quant & (1 << q) == 0) {
                    return Err(Walk::Broken("a JPEG frame uses a quantization table never defined".into()));
                }
                scanned |= start_of_scan(segment, frame)?;
                entropy_coded(bytes, &mut at)?;
            }
            // Application data, comments, restart interval, number of lines, arithmetic tables.
            _ => {}
        }
    }
}

/// The next marker at `at` (fill bytes allowed before it); `at` moves past it.
fn next_marker(bytes: &[u8], at: &mut usize) -> Result<u8, Walk> {
    if bytes.get(*at) != Some(&0xFF) {
        return Err(truncated_or(bytes, *at, "JPEG data where a marker belongs"));
    }
    while bytes.get(*at) == Some(&0xFF) {
        *at += 1;
    }
    let marker = *bytes.get(*at).ok_or_else(|| truncated_or(bytes, *at, ""))?;
    *at += 1;
    if marker == 0 {
        return Err(Walk::Broken("JPEG marker 00 out of place".into()));
    }
    Ok(marker)
}

fn truncated_or(bytes: &[u8], at: usize, what: &str) -> Walk {
    if at >= bytes.len() {
        Walk::Broken("the JPEG is cut short".into())
    } else {
        Walk::Broken(what.into())
    }
}

/// A marker segment's content; `at` moves past it.
fn segment<'a>(bytes: &'a [u8], at: &mut usize) -> Result<&'a [u8], Walk> {
    let head = bytes.get(*at..*at + 2).ok_or_else(|| truncated_or(bytes, bytes.len(), ""))?;
    let len = u16::from_be_bytes([head[0], head[1]]) as usize;
    if len < 2 {
        return Err(Walk::Broken("a JPEG segment with a bad length".into()));
    }
    let content = bytes.get(*at + 2..*at + len).ok_or_else(|| Walk::Broken("the JPEG is cut short".into()))?;
    *at += len;
    Ok(content)
}

fn start_of_frame(s: &[u8], progressive: bool) -> Result<(Frame, Canvas), Walk> {
    let bad = || Walk::Broken("a JPEG frame header that does not add up".into());
    if s.len() < 6 {
        return Err(bad());
    }
    let (precision, height, width, count) =
        (s[0], u16::from_be_bytes([s[1], s[2]]) as u32, u16::from_be_bytes([s[3], s[4]]) as u32, s[5] as usize);
    if precision != 8 {
        return Err(Walk::Broken(format!("{precision}-bit JPEG samples are not read")));
    }
    if !(1..=4).contains(&count) || s.len() != 6 + 3 * count || height == 0 || width == 0 {
        return Err(bad());
    }
    let mut components = Vec::with_capacity(count);
    for c in s[6..].chunks_exact(3) {
        let (h, v, q) = (c[1] >> 4, c[1] & 15, c[2]);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || q > 3 || components.iter().any(|(id, _)| *id == c[0]) {
            return Err(bad());
        }
        components.push((c[0], q));
    }
    // Decoded as grey or RGB (colour and CMYK pictures alike).
    let channels = if count == 1 { 1 } else { 3 };
    Ok((Frame { components, progressive }, Canvas { width, height, bytes_per_pixel: channels }))
}

fn huffman_tables(mut s: &[u8]) -> Result<(), Walk> {
    let bad = || Walk::Broken("a JPEG Huffman table that does not add up".into());
    while !s.is_empty() {
        let (class, id) = (s[0] >> 4, s[0] & 15);
        let counts = s.get(1..17).ok_or_else(bad)?;
        let symbols: usize = counts.iter().map(|&n| n as usize).sum();
        if class > 1 || id > 3 || symbols == 0 || symbols > 256 || s.len() < 17 + symbols {
            return Err(bad());
        }
        // A code of length L leaves room for 2^L codes, less those taken by shorter ones.
        let mut room = 1u32;
        for &n in counts {
            room *= 2;
            room = room.checked_sub(n as u32).ok_or_else(bad)?;
        }
        s = &s[17 + symbols..];
    }
    Ok(())
}

fn quantization_tables(mut s: &[u8], quant: &mut u8) -> Result<(), Walk> {
    while !s.is_empty() {
        let (precision, id) = (s[0] >> 4, s[0] & 15);
        let len = 1 + 64 * (precision as usize + 1);
        if precision > 1 || id > 3 || s.len() < len {
            return Err(Walk::Broken("a JPEG quantization table that does not add up".into()));
        }
        *quant |= 1 << id;
        s = &s[len..];
    }
    Ok(())
}

/// The components (as a bit per frame component) a scan codes.
/// Its Huffman tables need not be defined: motion-JPEG frames from cameras leave them out
/// and decoders use the standard tables.
fn start_of_scan(s: &[u8], frame: &Frame) -> Result<u8, Walk> {
    let bad = || Walk::Broken("a JPEG scan header that does not add up".into());
    let count = *s.first().ok_or_else(bad)? as usize;
    if !(1..=4).contains(&count) || s.len() != 4 + 2 * count {
        return Err(bad());
    }
    let (spectral_start, spectral_end) = (s[1 + 2 * count], s[2 + 2 * count]);
    if spectral_end > 63
        || spectral_start > spectral_end
        || (!frame.progressive && (spectral_start, spectral_end) != (0, 63))
    {
        return Err(bad());
    }
    let mut coded = 0u8;
    for c in s[1..1 + 2 * count].chunks_exact(2) {
        let index = frame.components.iter().position(|(id, _)| *id == c[0]).ok_or_else(bad)?;
        let (dc_table, ac_table) = (c[1] >> 4, c[1] & 15);
        if dc_table > 3 || ac_table > 3 {
            return Err(bad());
        }
        coded |= 1 << index;
    }
    Ok(coded)
}

/// Walks a scan's entropy-coded data (stuffed bytes and restart markers included) up to the
/// marker that ends it, which it leaves at `at`.
fn entropy_coded(bytes: &[u8], at: &mut usize) -> Result<(), Walk> {
    let start = *at;
    loop {
        let Some(ff) = bytes[*at..].iter().position(|&b| b == 0xFF) else {
            return Err(Walk::Broken("the JPEG is cut short".into()));
        };
        let marker_at = *at + ff;
        match bytes.get(marker_at + 1) {
            None => return Err(Walk::Broken("the JPEG is cut short".into())),
            Some(0x00) | Some(0xD0..=0xD7) => *at = marker_at + 2,
            Some(_) => {
                if marker_at == start {
                    return Err(Walk::Broken("a JPEG scan without image data".into()));
                }
                *at = marker_at;
                return Ok(());
            }
        }
    }
}
