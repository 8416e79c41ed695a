//! CRC32C (Castagnoli), which PROXY v2's PP2_TYPE_CRC32C TLV carries.

const POLY: u32 = 0x82F6_3B78;

const TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// CRC32C of `parts` taken as one byte string.
pub fn crc32c(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for part in parts {
        for &b in *part {
            crc = TABLE[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3720_check_value() {
        // The standard check value: CRC32C("123456789").
        assert_eq!(super::crc32c(&[b"123456789"]), 0xE306_9283);
        assert_eq!(super::crc32c(&[b"1234", b"56789"]), 0xE306_9283);
    }
}
