//! Byte-level helpers for the /proc/net tables: whitespace-separated fields and hex/decimal
//! numbers parsed in place, without allocating.

/// Whitespace-separated fields of one line.
pub(super) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub(super) fn new(line: &'a [u8]) -> Fields<'a> {
        Fields { rest: line }
    }

    /// What follows the last field returned (unix paths may contain spaces).
    pub(super) fn rest(&self) -> &'a [u8] {
        self.rest
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // The kernel separates with spaces; anything at or below ' ' counts as a separator.
        let start = self.rest.iter().position(|&b| b > b' ')?;
        let rest = &self.rest[start..];
        let end = rest.iter().position(|&b| b <= b' ').unwrap_or(rest.len());
        self.rest = &rest[end..];
        Some(&rest[..end])
    }
}

/// Lines of a buffer, without their '\n'. The newline search looks at 8 bytes at a time:
/// tables are megabytes of mostly padding and this loop is a large part of the parse.
pub(super) struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a [u8]) -> Lines<'a> {
        Lines { rest: text }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match find_newline(self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &[][..]),
        };
        self.rest = rest;
        Some(line)
    }
}

fn find_newline(s: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NL: u64 = LO * b'\n' as u64;
    let mut chunks = s.chunks_exact(8);
    for (n, chunk) in chunks.by_ref().enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word) ^ NL;
        // Classic "has a zero byte": exact for the lowest zero byte, the first newline.
        let zero = x.wrapping_sub(LO) & !x & HI;
        if zero != 0 {
            return Some(n * 8 + (zero.trailing_zeros() / 8) as usize);
        }
    }
    let tail = chunks.remainder();
    let base = s.len() - tail.len();
    tail.iter().position(|&b| b == b'\n').map(|p| base + p)
}

fn hex_digit(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

/// Hex number of 1 to 16 digits.
pub(super) fn hex_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    s.iter()
        .try_fold(0u64, |acc, &b| Some((acc << 4) | hex_digit(b)?))
}

/// Hex number of 1 to 8 digits.
pub(super) fn hex_u32(s: &[u8]) -> Option<u32> {
    if s.len() > 8 {
        return None;
    }
    hex_u64(s).map(|v| v as u32)
}

/// Unsigned decimal number.
pub(super) fn dec_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        if b.is_ascii_digit() {
            acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
        } else {
            None
        }
    })
}

/// Signed decimal number (a few /proc columns are printed with `%d`).
pub(super) fn dec_i64(s: &[u8]) -> Option<i64> {
    match s.strip_prefix(b"-") {
        Some(digits) => dec_u64(digits)
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| -v),
        None => dec_u64(s).and_then(|v| i64::try_from(v).ok()),
    }
}

/// Split `a:b` at its first colon (a second colon fails the hex parse of `b`).
pub(super) fn split_colon(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == b':')?;
    Some((&s[..i], &s[i + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_skip_runs_of_spaces() {
        let mut f = Fields::new(b"  0: 0100007F:1F90  0A \n");
        assert_eq!(f.next(), Some(&b"0:"[..]));
        assert_eq!(f.next(), Some(&b"0100007F:1F90"[..]));
        assert_eq!(f.next(), Some(&b"0A"[..]));
        assert_eq!(f.next(), None);
    }

    #[test]
    fn lines_match_split() {
        let texts: [&[u8]; 7] = [
            b"",
            b"\n",
            b"a\nbb\n\nccc",
            b"0123456789abcdef\n0123456\n",
            b"0123456\n0123456789abcdef0123456789\nx",
            b"\x8a\n\x0a\x0b\x89\x0a",
            b"no newline at all, longer than eight bytes",
        ];
        for t in texts {
            let ours: Vec<&[u8]> = Lines::new(t).collect();
            let mut std: Vec<&[u8]> = t.split(|&b| b == b'\n').collect();
            if t.last() == Some(&b'\n') || t.is_empty() {
                std.pop();
            }
            assert_eq!(ours, std, "{t:?}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(hex_u32(b"0100007F"), Some(0x0100_007F));
        assert_eq!(hex_u32(b"ffffffff"), Some(u32::MAX));
        assert_eq!(hex_u32(b"123456789"), None);
        assert_eq!(hex_u32(b"0G"), None);
        assert_eq!(hex_u32(b""), None);
        assert_eq!(hex_u64(b"FFFFFFFFFFFFFFFF"), Some(u64::MAX));
        assert_eq!(dec_u64(b"1604"), Some(1604));
        assert_eq!(dec_u64(b"16a"), None);
        assert_eq!(dec_u64(b"99999999999999999999"), None);
        assert_eq!(dec_i64(b"-1"), Some(-1));
        assert_eq!(dec_i64(b"-"), None);
        assert_eq!(split_colon(b"00:0000"), Some((&b"00"[..], &b"0000"[..])));
        assert_eq!(split_colon(b"0000"), None);
        assert_eq!(split_colon(b"0:0:0"), Some((&b"0"[..], &b"0:0"[..])));
        assert_eq!(hex_u32(b"0:0"), None);
    }
}
