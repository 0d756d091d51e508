//! A sequential JPEG's one scan walked through its Huffman codes, block by block: every
//! code must be one its table has, every block must hold at most 64 coefficients, each
//! restart interval must end on its numbered marker, and the data must hold exactly the
//! blocks the frame's size and sampling call for. That proves the picture whole without
//! the dequantizing, inverse DCT and colour conversion a decode spends its time on: the
//! coefficients' values are skipped, never computed.
//!
//! The walk answers `Unsure` for what is legal but unusual (bytes left over before a
//! marker): the caller then lets the full decoder judge, as it did before this walk.

/// Codes up to this many bits are found in one look-up; longer ones code rare symbols.
const FAST: u32 = 10;

/// One Huffman table, ready to decode with.
pub struct Table {
    /// By the next `FAST` bits: code length << 8 | symbol, or 0 for a longer code.
    fast: [u16; 1 << FAST],
    /// By the next `FAST` bits, for an AC coefficient whose code and value both fit in them:
    /// zeros skipped << 8 | bits taken, or 0. Most coefficients take this one look-up.
    coefficient: [u16; 1 << FAST],
    /// Largest code of each length, -1 where there is none (canonical codes, JPEG F.2.2.3).
    max_code: [i32; 17],
    /// Added to a code of each length, the index of its symbol.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Table {
    /// From a DHT's code counts (one per length 1–16) and symbols; the counts must have
    /// been checked to leave room for every code.
    pub fn new(counts: &[u8], symbols: &[u8]) -> Table {
        let mut table = Table {
            fast: [0; 1 << FAST],
            coefficient: [0; 1 << FAST],
            max_code: [-1; 17],
            offset: [0; 17],
            symbols: symbols.to_vec(),
        };
        let (mut code, mut index) = (0u32, 0usize);
        for len in 1..=16u32 {
            let n = counts[len as usize - 1] as usize;
            table.offset[len as usize] = index as i32 - code as i32;
            for _ in 0..n {
                if len <= FAST {
                    let first = (code << (FAST - len)) as usize;
                    let entry = (len as u16) << 8 | symbols[index] as u16;
                    table.fast[first..first + (1 << (FAST - len))].fill(entry);
                    let (run, size) = (symbols[index] as u32 >> 4, symbols[index] as u32 & 15);
                    if (1..=10).contains(&size) && len + size <= FAST {
                        let entry = (run << 8 | (len + size)) as u16;
                        table.coefficient[first..first + (1 << (FAST - len))].fill(entry);
                    }
                }
                code += 1;
                index += 1;
            }
            if n > 0 {
                table.max_code[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        table
    }
}

/// A component as its scan codes it.
pub struct Part<'t> {
    /// Sampling factors.
    pub h: u32,
    pub v: u32,
    pub dc: &'t Table,
    pub ac: &'t Table,
}

/// What a scan codes: the frame's size, its largest sampling factors, the scan's
/// components in their order and the restart interval (0: none).
pub struct Scan<'t> {
    pub width: u32,
    pub height: u32,
    pub h_max: u32,
    pub v_max: u32,
    pub parts: Vec<Part<'t>>,
    pub restart: u32,
}

/// Why a walk stopped.
#[derive(Debug, PartialEq)]
pub enum Stop {
    Broken(&'static str),
    /// Legal but unusual: the full decoder judges.
    Unsure,
}

const CUT_SHORT: Stop = Stop::Broken("the JPEG's image data is cut short");

/// Walks the scan whose entropy-coded data starts at `start`; answers where the marker
/// after it starts.
pub fn walk(bytes: &[u8], start: usize, scan: &Scan) -> Result<usize, Stop> {
    let div = |a: u32, b: u32| a.div_ceil(b);
    // (blocks an MCU has of each part across and down, MCUs across and down)
    let (layout, across, down): (Vec<(u32, u32)>, u32, u32) = match scan.parts.as_slice() {
        // One component alone: a block an MCU, over that component's own size (A.2.2).
        [part] => {
            (vec![(1, 1)], div(div(scan.width * part.h, scan.h_max), 8), div(div(scan.height * part.v, scan.v_max), 8))
        }
        parts => (
            parts.iter().map(|p| (p.h, p.v)).collect(),
            div(scan.width, 8 * scan.h_max),
            div(scan.height, 8 * scan.v_max),
        ),
    };
    let mut bits = Bits { data: bytes, at: start, word: 0, count: 0 };
    let mcus = across as u64 * down as u64;
    let mut marker = 0u8;
    for mcu in 0..mcus {
        if scan.restart > 0 && mcu > 0 && mcu % scan.restart as u64 == 0 {
            bits.restart(marker)?;
            marker = (marker + 1) & 7;
        }
        for (part, &(h, v)) in scan.parts.iter().zip(&layout) {
            for _ in 0..h * v {
                bits.block(part.dc, part.ac)?;
            }
        }
    }
    bits.end()
}

/// The entropy-coded bytes as bits, stuffed zero bytes removed; it stops at a marker.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
    /// Bits not yet used, from the top; those below `count` are zero.
    word: u64,
    count: u32,
}

impl Bits<'_> {
    #[inline(always)]
    fn refill(&mut self) {
        // Eight bytes at once when none of them is 0xFF (stuffing or a marker).
        if let Some(eight) = self.data.get(self.at..self.at + 8) {
            let next = u64::from_be_bytes(eight.try_into().expect("eight bytes"));
            let inverted = !next;
            if inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080 == 0 {
                let whole = (64 - self.count) / 8;
                let filled = self.count + 8 * whole;
                let keep = if filled == 64 { u64::MAX } else { !(u64::MAX >> filled) };
                self.word |= (next >> self.count) & keep;
                self.count = filled;
                self.at += whole as usize;
                return;
            }
        }
        while self.count <= 56 {
            let Some(&byte) = self.data.get(self.at) else { return };
            if byte == 0xFF {
                if self.data.get(self.at + 1) != Some(&0) {
                    return; // A marker (or the end): no more data in this interval.
                }
                self.at += 1;
            }
            self.at += 1;
            self.word |= (byte as u64) << (56 - self.count);
            self.count += 8;
        }
    }

    #[inline(always)]
    fn consume(&mut self, n: u32) -> Result<(), Stop> {
        if n > self.count {
            return Err(CUT_SHORT);
        }
        self.word <<= n;
        self.count -= n;
        Ok(())
    }

    #[inline(always)]
    fn symbol(&mut self, table: &Table) -> Result<u8, Stop> {
        let entry = table.fast[(self.word >> (64 - FAST)) as usize];
        if entry != 0 {
            self.consume(entry as u32 >> 8)?;
            return Ok(entry as u8);
        }
        for len in FAST + 1..=16 {
            let code = (self.word >> (64 - len)) as i32;
            if code <= table.max_code[len as usize] {
                self.consume(len)?;
                return Ok(table.symbols[(code + table.offset[len as usize]) as usize]);
            }
        }
        // Past the data's end the bits read as zeros, which can spell no code at all.
        if self.count < 16 {
            return Err(CUT_SHORT);
        }
        Err(Stop::Broken("a JPEG Huffman code its table does not have"))
    }

    /// One 8×8 block: its DC difference, then AC run/size codes up to the end of block or
    /// the 63rd coefficient (F.2.2.1, F.2.2.2). The values' bits are skipped.
    #[inline(always)]
    fn block(&mut self, dc: &Table, ac: &Table) -> Result<(), Stop> {
        // A code and its value take at most 16 + 11 bits.
        if self.count < 32 {
            self.refill();
        }
        let size = self.symbol(dc)?;
        if size > 11 {
            return Err(Stop::Broken("a JPEG DC difference out of range"));
        }
        self.consume(size as u32)?;
        let mut k = 1;
        while k < 64 {
            if self.count < 32 {
                self.refill();
            }
            let quick = ac.coefficient[(self.word >> (64 - FAST)) as usize];
            if quick != 0 {
                k += quick as u32 >> 8;
                if k > 63 {
                    return Err(Stop::Broken("a JPEG block with coefficients past its 64"));
                }
                self.consume(quick as u32 & 0xFF)?;
                k += 1;
                continue;
            }
            let run_size = self.symbol(ac)?;
            let (run, size) = ((run_size >> 4) as u32, (run_size & 15) as u32);
            if size == 0 {
                if run != 15 {
                    return Ok(()); // End of block.
                }
                k += 16; // Sixteen zeros.
            } else {
                k += run;
                if k > 63 || size > 10 {
                    return Err(Stop::Broken("a JPEG block with coefficients past its 64"));
                }
                self.consume(size)?;
                k += 1;
            }
        }
        if k > 64 {
            return Err(Stop::Broken("a JPEG block with coefficients past its 64"));
        }
        Ok(())
    }

    /// Whole bytes left unused before a marker (the rest of a byte is padding).
    fn leftover(&mut self) -> Result<(), Stop> {
        self.refill();
        if self.count >= 8 {
            return Err(Stop::Unsure);
        }
        Ok(())
    }

    /// The end of a restart interval: padding, then restart marker `n`.
    fn restart(&mut self, n: u8) -> Result<(), Stop> {
        self.leftover()?;
        while self.data.get(self.at + 1) == Some(&0xFF) {
            self.at += 1; // Fill bytes before the marker.
        }
        match self.data.get(self.at + 1) {
            Some(&m) if m == 0xD0 + n => {}
            Some(0xD0..=0xD7) => return Err(Stop::Broken("JPEG restart markers out of order")),
            _ => return Err(CUT_SHORT),
        }
        self.at += 2;
        (self.word, self.count) = (0, 0);
        Ok(())
    }

    /// After the last block: padding, then the marker that ends the scan.
    fn end(mut self) -> Result<usize, Stop> {
        self.leftover()?;
        Ok(self.at)
    }
}
