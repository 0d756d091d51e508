//! A PNG proved whole without building its pixels: every chunk's CRC right, a header of a
//! kind the decoder reads with its size within the limits, a palette where one is needed,
//! and the image data inflating to exactly the scanlines its header promises, each with a
//! filter the format defines, before the closing IEND.

use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use super::{Canvas, Walk};

const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

struct Header {
    width: u32,
    height: u32,
    /// Bits per pixel in a scanline.
    bits: u64,
    interlaced: bool,
    palette: bool,
}

pub fn check(bytes: &[u8]) -> Result<Canvas, Walk> {
    let mut rest = bytes.strip_prefix(SIGNATURE).ok_or_else(|| Walk::Broken("no PNG signature".into()))?;
    let mut header: Option<(Header, Canvas)> = None;
    let mut palette = false;
    let mut data: Option<Scanlines> = None;
    let mut data_done = false;
    loop {
        let (kind, content, after) = chunk(rest)?;
        rest = after;
        if header.is_none() && &kind != b"IHDR" {
            return Err(Walk::Broken("a PNG that does not start with its header".into()));
        }
        // Image data is one run of IDAT chunks.
        if data.is_some() && &kind != b"IDAT" {
            data_done = true;
        }
        match &kind {
            b"IHDR" if header.is_none() => {
                let (head, canvas) = image_header(content)?;
                super::fits(&canvas)?;
                header = Some((head, canvas));
            }
            b"PLTE" if data.is_none() && !palette => palette = true,
            b"IDAT" if !data_done => {
                let (head, _) = header.as_ref().expect("checked above");
                if head.palette && !palette {
                    return Err(Walk::Broken("a PNG with colours from a palette it does not have".into()));
                }
                data.get_or_insert_with(|| Scanlines::new(head)).feed(content)?;
            }
            b"IEND" => {
                let (Some((_, canvas)), Some(data)) = (header, data) else {
                    return Err(Walk::Broken("a PNG without image data".into()));
                };
                data.finish()?;
                return Ok(canvas);
            }
            // An ancillary chunk (lower-case first letter) may be skipped; any other is not.
            kind if kind[0].is_ascii_lowercase() => {}
            kind => {
                return Err(Walk::Broken(format!("PNG chunk {} out of place", String::from_utf8_lossy(kind))));
            }
        }
    }
}

/// A chunk's type and content, and the bytes after it.
type Chunk<'a> = ([u8; 4], &'a [u8], &'a [u8]);

/// The next chunk, its CRC checked.
fn chunk(bytes: &[u8]) -> Result<Chunk<'_>, Walk> {
    let short = || Walk::Broken("the PNG is cut short".into());
    let len = u32::from_be_bytes(bytes.get(..4).ok_or_else(short)?.try_into().expect("four bytes")) as usize;
    if len > i32::MAX as usize {
        return Err(Walk::Broken("a PNG chunk with a bad length".into()));
    }
    let typed = bytes.get(4..8 + len).ok_or_else(short)?;
    let crc = bytes.get(8 + len..12 + len).ok_or_else(short)?;
    if crc32fast::hash(typed).to_be_bytes() != crc {
        return Err(Walk::Broken("a PNG chunk fails its CRC".into()));
    }
    let kind: [u8; 4] = typed[..4].try_into().expect("four bytes");
    if !kind.iter().all(u8::is_ascii_alphabetic) {
        return Err(Walk::Broken("a PNG chunk with a bad type".into()));
    }
    Ok((kind, &typed[4..], &bytes[12 + len..]))
}

fn image_header(s: &[u8]) -> Result<(Header, Canvas), Walk> {
    let bad = || Walk::Broken("a PNG header that does not add up".into());
    if s.len() != 13 {
        return Err(bad());
    }
    let width = u32::from_be_bytes(s[0..4].try_into().expect("four bytes"));
    let height = u32::from_be_bytes(s[4..8].try_into().expect("four bytes"));
    let (depth, colour, compression, filter, interlace) = (s[8], s[9], s[10], s[11], s[12]);
    let channels: u64 = match (colour, depth) {
        (0, 1 | 2 | 4 | 8 | 16) => 1,
        (3, 1 | 2 | 4 | 8) => 1,
        (2 | 6 | 4, 8 | 16) => [0, 0, 3, 0, 2, 0, 4][colour as usize],
        _ => return Err(bad()),
    };
    if width == 0 || height == 0 || compression != 0 || filter != 0 || interlace > 1 {
        return Err(bad());
    }
    // Decoded at 8 or 16 bits a sample; palette colours become RGB(A).
    let sample_bytes = if depth == 16 { 2 } else { 1 };
    let decoded_channels = match colour {
        3 => 4,
        _ => channels,
    };
    let header =
        Header { width, height, bits: channels * depth as u64, interlaced: interlace == 1, palette: colour == 3 };
    Ok((header, Canvas { width, height, bytes_per_pixel: decoded_channels * sample_bytes, whole: false }))
}

/// The inflated image data, checked scanline by scanline as it arrives and not kept.
struct Scanlines {
    inflater: Box<InflateState>,
    /// Bytes of each scanline (filter byte included), pass after pass.
    rows: std::vec::IntoIter<(u64, u64)>,
    /// (bytes a line, lines left) of the pass under way; position in the current line.
    pass: (u64, u64),
    in_line: u64,
    ended: bool,
    buffer: Vec<u8>,
}

/// Adam7: each pass's first column and row, and its steps across and down.
const ADAM7: [(u32, u32, u32, u32); 7] =
    [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

impl Scanlines {
    fn new(h: &Header) -> Scanlines {
        let line = |width: u32| 1 + (width as u64 * h.bits).div_ceil(8);
        let passes: Vec<(u64, u64)> = if h.interlaced {
            ADAM7
                .iter()
                .map(|&(x, y, dx, dy)| {
                    (h.width.saturating_sub(x).div_ceil(dx), h.height.saturating_sub(y).div_ceil(dy))
                })
                .filter(|&(w, rows)| w > 0 && rows > 0)
                .map(|(w, rows)| (line(w), rows as u64))
                .collect()
        } else {
            vec![(line(h.width), h.height as u64)]
        };
        let mut rows = passes.into_iter();
        let pass = rows.next().unwrap_or((0, 0));
        Scanlines {
            inflater: InflateState::new_boxed(DataFormat::Zlib),
            rows,
            pass,
            in_line: 0,
            ended: false,
            buffer: vec![0; 32 * 1024],
        }
    }

    fn feed(&mut self, mut input: &[u8]) -> Result<(), Walk> {
        loop {
            if self.ended {
                return match input.is_empty() {
                    true => Ok(()),
                    false => Err(Walk::Broken("a PNG with data after its image".into())),
                };
            }
            let result = inflate(&mut self.inflater, input, &mut self.buffer, MZFlush::None);
            input = &input[result.bytes_consumed..];
            let written = result.bytes_written;
            let buffer = std::mem::take(&mut self.buffer);
            let lined = self.lines(&buffer[..written]);
            self.buffer = buffer;
            lined?;
            match result.status {
                Ok(MZStatus::StreamEnd) => self.ended = true,
                // All input taken and room left for output: the next chunk continues the stream.
                Ok(_) if input.is_empty() && written < self.buffer.len() => return Ok(()),
                Ok(_) => {}
                Err(MZError::Buf) if input.is_empty() => return Ok(()),
                Err(_) => return Err(Walk::Broken("the PNG's image data does not inflate".into())),
            }
        }
    }

    /// Follows inflated bytes through the scanlines: each starts with a filter type 0–4.
    fn lines(&mut self, mut out: &[u8]) -> Result<(), Walk> {
        while !out.is_empty() {
            let (line, left) = self.pass;
            if left == 0 {
                return Err(Walk::Broken("a PNG with more image data than its size".into()));
            }
            if self.in_line == 0 && out[0] > 4 {
                return Err(Walk::Broken("a PNG scanline with an unknown filter".into()));
            }
            let take = (line - self.in_line).min(out.len() as u64);
            self.in_line += take;
            out = &out[take as usize..];
            if self.in_line == line {
                self.in_line = 0;
                self.pass.1 -= 1;
                if self.pass.1 == 0 {
                    self.pass = self.rows.next().unwrap_or((0, 0));
                }
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<(), Walk> {
        if !self.ended || self.pass.1 > 0 {
            return Err(Walk::Broken("the PNG's image data is cut short".into()));
        }
        Ok(())
    }
}
