//! A JPEG's structure checked without decoding its pixels: every segment in bounds, one
//! frame of a kind the decoder reads (baseline, extended or progressive, 8-bit) with its
//! size within the limits, its quantization tables defined before its scans, Huffman
//! tables well formed, every component in some scan, each scan's entropy-coded data
//! present, and the file ending in EOI.
//!
//! A sequential JPEG coded in one scan with tables of its own (what cameras and encoders
//! write) has that scan walked code by code (`entropy.rs`), which proves it whole: its
//! canvas says so, and no decode is needed. Any other JPEG is left to the full decode.

use super::entropy::{self, Part, Stop, Table};
use super::{Canvas, Walk};

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;
const DQT: u8 = 0xDB;
const DHT: u8 = 0xC4;
const DRI: u8 = 0xDD;

struct Component {
    id: u8,
    /// Sampling factors.
    h: u8,
    v: u8,
    quant: u8,
}

struct Frame {
    components: Vec<Component>,
    progressive: bool,
}

/// Huffman tables as last defined, by class (DC, AC) and destination.
type Tables = [[Option<Box<Table>>; 4]; 2];

/// A scan header's fields: (frame component index, DC table, AC table) in the scan's
/// order, and the successive approximation bits (zero in a sequential scan).
struct ScanHeader {
    parts: Vec<(usize, u8, u8)>,
    approximation: u8,
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
    let mut tables: Tables = Default::default();
    let mut restart = 0u32;
    // Scans seen, and whether the first was walked code by code.
    let (mut scans, mut walked) = (0u32, false);
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
                return Ok(Canvas { whole: walked && scans == 1, ..canvas });
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
                super::fits(&c)?;
                frame = Some(f);
                canvas = Some(c);
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                return Err(Walk::Broken("lossless, hierarchical and arithmetic-coded JPEGs are not read".into()))
            }
            DHT => huffman_tables(segment, &mut tables)?,
            DQT => quantization_tables(segment, &mut quant)?,
            DRI => {
                let interval = segment.get(..2).filter(|_| segment.len() == 2);
                let interval =
                    interval.ok_or_else(|| Walk::Broken("a JPEG restart interval that does not add up".into()))?;
                restart = u16::from_be_bytes([interval[0], interval[1]]) as u32;
            }
            SOS => {
                let frame = frame.as_ref().ok_or_else(|| Walk::Broken("a JPEG scan before its frame".into()))?;
                let canvas = canvas.as_ref().expect("set with the frame");
                if frame.components.iter().any(|c| quant & (1 << c.quant) == 0) {
                    return Err(Walk::Broken("a JPEG frame uses a quantization table never defined".into()));
                }
                let scan = start_of_scan(segment, frame)?;
                scanned |= scan.parts.iter().fold(0u8, |m, &(i, _, _)| m | 1 << i);
                scans += 1;
                walked = scans == 1 && walk(bytes, &mut at, frame, canvas, &scan, &tables, restart)?;
                if !walked {
                    entropy_coded(bytes, &mut at)?;
                }
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
    let mut components: Vec<Component> = Vec::with_capacity(count);
    for c in s[6..].chunks_exact(3) {
        let (h, v, quant) = (c[1] >> 4, c[1] & 15, c[2]);
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || quant > 3 || components.iter().any(|k| k.id == c[0]) {
            return Err(bad());
        }
        components.push(Component { id: c[0], h, v, quant });
    }
    // Decoded as grey or RGB (colour and CMYK pictures alike).
    let channels = if count == 1 { 1 } else { 3 };
    Ok((Frame { components, progressive }, Canvas { width, height, bytes_per_pixel: channels, whole: false }))
}

/// Walks a sequential scan that codes every component with tables defined, code by code
/// (`entropy.rs`), leaving `at` at the marker after it. False, with `at` unmoved, for a
/// scan the walk does not cover or data it is unsure of: the full decode judges those.
fn walk(
    bytes: &[u8],
    at: &mut usize,
    frame: &Frame,
    canvas: &Canvas,
    scan: &ScanHeader,
    tables: &Tables,
    restart: u32,
) -> Result<bool, Walk> {
    // Grey, or colour sampled as encoders and cameras do (4:4:4, 4:2:2, 4:4:0, 4:2:0):
    // the decoder reads those, and any other is left for it to judge.
    let common = match frame.components.as_slice() {
        [_] => true,
        [y, rest @ ..] if rest.len() == 2 => {
            (1..=2).contains(&y.h) && (1..=2).contains(&y.v) && rest.iter().all(|c| (c.h, c.v) == (1, 1))
        }
        _ => false,
    };
    if !common || frame.progressive || scan.approximation != 0 || scan.parts.len() != frame.components.len() {
        return Ok(false);
    }
    let mut parts = Vec::with_capacity(scan.parts.len());
    for &(index, dc, ac) in &scan.parts {
        // Tables left out (motion-JPEG frames) mean the standard ones, which the decoder knows.
        let (Some(dc), Some(ac)) = (&tables[0][dc as usize], &tables[1][ac as usize]) else { return Ok(false) };
        let c = &frame.components[index];
        parts.push(Part { h: c.h as u32, v: c.v as u32, dc, ac });
    }
    let scan = entropy::Scan {
        width: canvas.width,
        height: canvas.height,
        h_max: frame.components.iter().map(|c| c.h as u32).max().unwrap_or(1),
        v_max: frame.components.iter().map(|c| c.v as u32).max().unwrap_or(1),
        parts,
        restart,
    };
    match entropy::walk(bytes, *at, &scan) {
        Ok(end) => {
            *at = end;
            Ok(true)
        }
        Err(Stop::Unsure) => Ok(false),
        Err(Stop::Broken(why)) => Err(Walk::Broken(why.into())),
    }
}

fn huffman_tables(mut s: &[u8], tables: &mut Tables) -> Result<(), Walk> {
    let bad = || Walk::Broken("a JPEG Huffman table that does not add up".into());
    while !s.is_empty() {
        let (class, id) = (s[0] >> 4, s[0] & 15);
        let counts = s.get(1..17).ok_or_else(bad)?;
        let symbols: usize = counts.iter().map(|&n| n as usize).sum();
        if class > 1 || id > 3 || symbols == 0 || symbols > 256 || s.len() < 17 + symbols {
            return Err(bad());
        }
        // A code of length L leaves room for 2^L codes, less those taken by shorter ones,
        // and one must stay free: a code of all ones is reserved (C.2, as decoders hold).
        let mut room = 1u32;
        for &n in counts {
            room *= 2;
            room = room.checked_sub(n as u32).filter(|&r| r > 0).ok_or_else(bad)?;
        }
        // A DC symbol is the size of a difference; the decoder refuses any past 15.
        if class == 0 && s[17..17 + symbols].iter().any(|&size| size > 15) {
            return Err(bad());
        }
        tables[class as usize][id as usize] = Some(Box::new(Table::new(counts, &s[17..17 + symbols], class == 1)));
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

/// The components a scan codes and how.
/// Its Huffman tables need not be defined: motion-JPEG frames from cameras leave them out
/// and decoders use the standard tables.
fn start_of_scan(s: &[u8], frame: &Frame) -> Result<ScanHeader, Walk> {
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
    let mut parts: Vec<(usize, u8, u8)> = Vec::with_capacity(count);
    for c in s[1..1 + 2 * count].chunks_exact(2) {
        let index = frame.components.iter().position(|k| k.id == c[0]).ok_or_else(bad)?;
        let (dc_table, ac_table) = (c[1] >> 4, c[1] & 15);
        if dc_table > 3 || ac_table > 3 || parts.iter().any(|p| p.0 == index) {
            return Err(bad());
        }
        parts.push((index, dc_table, ac_table));
    }
    Ok(ScanHeader { parts, approximation: s[3 + 2 * count] })
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
