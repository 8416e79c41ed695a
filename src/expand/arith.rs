//! `${eval:...}` arithmetic and Exim's time intervals.

use super::error::ExpandError;

struct Eval<'a> {
    s: &'a [u8],
    pos: usize,
    decimal: bool,
    error: Option<&'static str>,
}

/// Evaluate an expression as `${eval:}` (`decimal` for `${eval10:}`).
pub fn eval_expr(src: &str, decimal: bool) -> Result<String, ExpandError> {
    let mut e = Eval { s: src.as_bytes(), pos: 0, decimal, error: None };
    let v = e.or();
    if e.error.is_none() && e.pos < e.s.len() {
        e.error = Some("expecting operator");
    }
    match e.error {
        None => Ok(v.to_string()),
        Some(msg) => Err(ExpandError::Failed(format!(
            "error in expression evaluation: {msg} (after processing \"{}\")",
            String::from_utf8_lossy(&e.s[..e.pos])
        ))),
    }
}

impl Eval<'_> {
    fn peek(&self) -> u8 {
        self.s.get(self.pos).copied().unwrap_or(0)
    }

    fn peek2(&self) -> u8 {
        self.s.get(self.pos + 1).copied().unwrap_or(0)
    }

    fn skip_ws(&mut self) {
        while self.peek().is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    /// The binary operator at the cursor: its byte, precedence (Exim's
    /// levels, `|` lowest) and length.
    fn operator(&self) -> Option<(u8, u8, usize)> {
        Some(match self.peek() {
            b'|' => (b'|', 1, 1),
            b'^' => (b'^', 2, 1),
            b'&' => (b'&', 3, 1),
            c @ (b'<' | b'>') if self.peek2() == c => (c, 4, 2),
            c @ (b'+' | b'-') => (c, 5, 1),
            c @ (b'*' | b'/' | b'%') => (c, 6, 1),
            _ => return None,
        })
    }

    /// Exim's chain of one function per precedence level (eval_expr, then
    /// eval_op_or ... eval_op_mult), as precedence climbing: the same
    /// operands read and operations done in the same order, left to
    /// right, with the same errors, without a call per level per operand.
    fn or(&mut self) -> i64 {
        self.climb(1)
    }

    fn climb(&mut self, min: u8) -> i64 {
        let mut x = self.unary();
        while self.error.is_none() {
            let Some((op, prec, len)) = self.operator().filter(|o| o.1 >= min) else { break };
            self.pos += len;
            let y = self.climb(prec + 1);
            if self.error.is_some() {
                break;
            }
            x = self.apply(op, x, y);
        }
        x
    }

    fn apply(&mut self, op: u8, x: i64, y: i64) -> i64 {
        match op {
            b'|' => x | y,
            b'^' => x ^ y,
            b'&' => x & y,
            b'<' | b'>' => {
                let sh = (y & 63) as u32;
                if op == b'<' {
                    x.wrapping_shl(sh)
                } else {
                    x.wrapping_shr(sh)
                }
            }
            // Exim's "over-conservative" overflow test, the same for a sum
            // and a difference, as its build computes it (measured against
            // Exim 4.96: any left operand from 2^62 - 1 up overflows, a
            // negative one only when both are -(2^62 - 1) or less; so
            // 9223372036854775765 - 4 overflows and -9223372036854775806 -
            // 9223372036854775806 is 4). What passes it wraps round.
            b'+' | b'-' => {
                const HALF: i64 = i64::MAX / 2;
                if x >= HALF || (x <= -HALF && y <= -HALF) {
                    self.error = Some(if op == b'+' { "overflow in sum" } else { "overflow in difference" });
                    return 0;
                }
                if op == b'+' {
                    x.wrapping_add(y)
                } else {
                    x.wrapping_sub(y)
                }
            }
            // Exim checks sums but not products: they wrap round.
            b'*' => x.wrapping_mul(y),
            _ if y == 0 => {
                self.error = Some(if op == b'/' { "divide by zero" } else { "modulo by zero" });
                0
            }
            // The one quotient that overflows gives the largest number.
            b'/' if x == i64::MIN && y == -1 => i64::MAX,
            b'/' => x / y,
            _ => x.wrapping_rem(y),
        }
    }

    fn unary(&mut self) -> i64 {
        self.skip_ws();
        match self.peek() {
            op @ (b'+' | b'-' | b'~') => {
                self.pos += 1;
                let x = self.unary();
                match op {
                    b'-' => x.wrapping_neg(),
                    b'~' => !x,
                    _ => x,
                }
            }
            _ => self.number(),
        }
    }

    fn number(&mut self) -> i64 {
        self.skip_ws();
        let c = self.peek();
        let n = if c.is_ascii_digit() {
            let n = self.scan_integer();
            let mult = match self.peek() {
                b'k' | b'K' => 1024,
                b'm' | b'M' => 1024 * 1024,
                b'g' | b'G' => 1024 * 1024 * 1024,
                _ => 1,
            };
            if mult != 1 {
                self.pos += 1;
            }
            n.wrapping_mul(mult)
        } else if c == b'(' {
            self.pos += 1;
            let n = self.or();
            if self.error.is_none() {
                if self.peek() != b')' {
                    self.error = Some("expecting closing parenthesis");
                } else {
                    self.pos += 1;
                }
            }
            n
        } else {
            self.error = Some("expecting number or opening parenthesis");
            0
        };
        self.skip_ws();
        n
    }

    /// sscanf's %lld, or %lli (0x hex, leading-zero octal) for `eval`.
    fn scan_integer(&mut self) -> i64 {
        let rest = &self.s[self.pos..];
        let (radix, skip) = if !self.decimal && rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x' && rest[2].is_ascii_hexdigit() {
            (16, 2)
        } else if !self.decimal && rest[0] == b'0' {
            (8, 0)
        } else {
            (10, 0)
        };
        let mut n: i64 = 0;
        let mut digits = 0;
        for d in rest[skip..].iter().map_while(|b| (*b as char).to_digit(radix)) {
            digits += 1;
            // Like strtoll, clamp on overflow.
            n = n.checked_mul(i64::from(radix)).and_then(|n| n.checked_add(i64::from(d))).unwrap_or(i64::MAX);
        }
        self.pos += skip + digits;
        n
    }
}

/// Exim's readconf_readtime: `1h30m`, every number needs a unit.
pub fn readconf_readtime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.is_empty() {
        return None;
    }
    let mut i = 0;
    let mut total: i64 = 0;
    while i < b.len() {
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Exim keeps times in a C int: the arithmetic wraps at 32 bits.
        let value: i32 = s[start..i].parse::<i64>().ok()? as i32;
        let mult: i32 = match b.get(i)? {
            b'w' => 7 * 24 * 3600,
            b'd' => 24 * 3600,
            b'h' => 3600,
            b'm' => 60,
            b's' => 1,
            _ => return None,
        };
        i += 1;
        total = total.wrapping_add(i64::from(value.wrapping_mul(mult)));
        total = i64::from(total as i32);
    }
    Some(total)
}

/// Exim's readconf_printtime: `1w2d3h4m5s`, zero as `0s`.
pub fn readconf_printtime(t: i64) -> String {
    use std::fmt::Write;
    // Written in place: a format! per unit costs an allocation each.
    let mut out = String::with_capacity(16);
    let mut t = t;
    if t < 0 {
        out.push('-');
        t = -t;
    }
    let s = t % 60;
    t /= 60;
    let m = t % 60;
    t /= 60;
    let h = t % 24;
    t /= 24;
    let d = t % 7;
    let w = t / 7;
    let start = out.len();
    for (v, unit) in [(w, 'w'), (d, 'd'), (h, 'h'), (m, 'm')] {
        if v > 0 {
            let _ = write!(out, "{v}{unit}");
        }
    }
    if s > 0 || out.len() == start {
        let _ = write!(out, "{s}s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> String {
        match eval_expr(s, false) {
            Ok(v) => v,
            Err(ExpandError::Failed(m)) => m,
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn agree_with_exim() {
        assert_eq!(ev("1+2*3"), "7");
        assert_eq!(ev("-2 - -3"), "1");
        assert_eq!(ev("-2 -+-3"), "1");
        assert_eq!(ev("(2*(1+1))/2 + 40K"), "40962");
        assert_eq!(ev("077"), "63");
        assert_eq!(ev("08"), "error in expression evaluation: expecting operator (after processing \"0\")");
        assert_eq!(ev(""), "error in expression evaluation: expecting number or opening parenthesis (after processing \"\")");
        assert_eq!(ev("-2 - (-3"), "error in expression evaluation: expecting closing parenthesis (after processing \"-2 - (-3\")");
        assert_eq!(ev("~255&0x1234"), "4608");
        assert_eq!(ev("0xc >> 2"), "3");
        assert_eq!(ev("3/0"), "error in expression evaluation: divide by zero (after processing \"3/0\")");
    }

    proptest::proptest! {
        /// The digit reader is strtoll's: the radix's digits, clamped at
        /// i64::MAX (a sign is an operator here).
        #[test]
        fn numbers_read_as_strtoll(digits in "(0x)?[0-9a-fA-F]{1,24}") {
            let mut e = Eval { s: digits.as_bytes(), pos: 0, decimal: false, error: None };
            let got = e.scan_integer();
            let (radix, text) = match digits.strip_prefix("0x") {
                Some(hex) => (16, hex),
                None if digits.starts_with('0') => (8, digits.as_str()),
                None => (10, digits.as_str()),
            };
            let valid = text.bytes().take_while(|b| (*b as char).is_digit(radix)).count();
            let want = if valid == 0 { 0 } else { i64::from_str_radix(&text[..valid], radix).unwrap_or(i64::MAX) };
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn times() {
        assert_eq!(readconf_readtime("1h30m"), Some(5400));
        assert_eq!(readconf_readtime("14"), None);
        assert_eq!(readconf_printtime(5400), "1h30m");
        assert_eq!(readconf_printtime(0), "0s");
    }
}
