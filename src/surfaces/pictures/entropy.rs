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
/// AC codes are looked up with their values this many bits at a time, as many as fit: a
/// walk takes as long as its chain of look-ups, each waiting for the one before.
const RUN: u32 = 11;

/// One Huffman table, ready to decode with.
pub struct Table {
    /// By the next `FAST` bits: code length << 8 | symbol, or 0 for a longer code.
    fast: [u16; 1 << FAST],
    /// By the next `FAST` bits, for a DC difference whose code is that short: the bits its
    /// code and value take together, or 0 (a longer code, or a size out of range).
    dc: [u16; 1 << FAST],
    /// By the next `RUN` bits, for the AC codes with their values that those bits hold
    /// whole: the coefficients they move on by << 8 | the bits they take, with `END` if the
    /// last ends the block; 0 when not even the first fits. The values' bits are skipped,
    /// never read, so a code and its value are one step, and most steps take several.
    ac: Box<[u16; 1 << RUN]>,
    /// Largest code of each length, -1 where there is none (canonical codes, JPEG F.2.2.3).
    max_code: [i32; 17],
    /// Added to a code of each length, the index of its symbol.
    offset: [i32; 17],
    symbols: Vec<u8>,
}

/// In an `ac` entry: the last code ends the block.
const END: u16 = 1 << 15;

impl Table {
    /// From a DHT's code counts (one per length 1–16) and symbols; the counts must have
    /// been checked to leave room for every code. Only an AC table (`ac`, the DHT's class 1)
    /// gets its runs: building them is a good part of a small picture's walk.
    pub fn new(counts: &[u8], symbols: &[u8], ac: bool) -> Table {
        let mut table = Table {
            fast: [0; 1 << FAST],
            dc: [0; 1 << FAST],
            ac: Box::new([0; 1 << RUN]),
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
                    let codes = (code << (FAST - len)) as usize..((code + 1) << (FAST - len)) as usize;
                    let symbol = symbols[index];
                    table.fast[codes.clone()].fill((len as u16) << 8 | symbol as u16);
                    if symbol <= 11 {
                        table.dc[codes].fill((len + symbol as u32) as u16);
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
        if ac {
            for bits in 0..1 << RUN {
                table.ac[bits as usize] = table.ac_run(bits);
            }
        }
        table
    }

    /// The `ac` entry of `RUN` bits.
    fn ac_run(&self, bits: u32) -> u16 {
        let (mut taken, mut moves) = (0u32, 0u32);
        loop {
            let next = (bits << taken) & ((1 << RUN) - 1);
            let entry = self.fast[(next >> (RUN - FAST)) as usize];
            let (len, run, size) = (entry as u32 >> 8, (entry as u32 >> 4) & 15, entry as u32 & 15);
            // Zero sizes code an end of block or, with run 15, sixteen zeros.
            let (step, ends) = match size {
                0 => (if run == 15 { 16 } else { 0 }, run != 15),
                1..=10 => (run + 1, false),
                _ => break,
            };
            if entry == 0 || taken + len + size > RUN || moves + step >= 64 {
                break; // Read one code at a time.
            }
            taken += len + size;
            moves += step;
            if ends {
                return END | (moves << 8 | taken) as u16;
            }
        }
        (moves << 8 | taken) as u16
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
    #[cfg(test)]
    if CODE_BY_CODE.get() {
        return walk_by::<false>(bytes, start, scan);
    }
    walk_by::<true>(bytes, start, scan)
}

#[cfg(test)]
thread_local! {
    /// Walks this thread's pictures one code at a time, as the standard reads them: what
    /// the walk by runs of codes must agree with.
    pub static CODE_BY_CODE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn walk_by<const BY_RUNS: bool>(bytes: &[u8], start: usize, scan: &Scan) -> Result<usize, Stop> {
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
                bits.block::<BY_RUNS>(part.dc, part.ac)?;
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
    fn block<const BY_RUNS: bool>(&mut self, dc: &Table, ac: &Table) -> Result<(), Stop> {
        // A code and its value take at most 16 + 11 bits.
        if self.count < 32 {
            self.refill();
        }
        match dc.dc[(self.word >> (64 - FAST)) as usize] as u32 {
            bits if BY_RUNS && bits != 0 => self.consume(bits)?,
            _ => {
                let size = self.symbol(dc)?;
                if size > 11 {
                    return Err(Stop::Broken("a JPEG DC difference out of range"));
                }
                self.consume(size as u32)?;
            }
        }
        let mut k = 1;
        while k < 64 {
            if self.count < 32 {
                self.refill();
            }
            // Whole runs of codes while the block can neither fill up nor overflow in them.
            let codes = ac.ac[(self.word >> (64 - RUN)) as usize];
            let (moves, bits) = (((codes & !END) >> 8) as u32, (codes & 0xFF) as u32);
            if BY_RUNS && codes != 0 && k + moves < 64 {
                self.consume(bits)?;
                if codes & END != 0 {
                    return Ok(());
                }
                k += moves;
                continue;
            }
            // One code at a time, as the standard reads them.
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
