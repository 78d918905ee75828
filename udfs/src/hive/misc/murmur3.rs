//! Hive's `Murmur3.hash32` (storage-api `org.apache.hive.common.util.Murmur3`): MurmurHash3
//! x86 32-bit with Hive's default seed 104729, including Hive's tail, which sign-extends the
//! last 1 to 3 bytes.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;
const R1: u32 = 15;
const R2: u32 = 13;
const M: u32 = 5;
const N: u32 = 0xe654_6b64;

/// Hive's default seed.
pub(super) const DEFAULT_SEED: u32 = 104_729;

fn mix(k: u32, hash: u32) -> u32 {
    let k = k.wrapping_mul(C1).rotate_left(R1).wrapping_mul(C2);
    (hash ^ k).rotate_left(R2).wrapping_mul(M).wrapping_add(N)
}

fn fmix(length: u32, hash: u32) -> u32 {
    let mut h = hash ^ length;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// `Murmur3.hash32(data, data.length, seed)`.
pub(super) fn hash32(data: &[u8], seed: u32) -> i32 {
    let mut hash = seed;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        hash = mix(
            u32::from_le_bytes([block[0], block[1], block[2], block[3]]),
            hash,
        );
    }
    let tail = blocks.remainder();
    // Java: `k1 ^= data[i] << n` on signed bytes.
    let signed = |i: usize| i32::from(tail[i] as i8) as u32;
    let mut k1: u32 = 0;
    if tail.len() == 3 {
        k1 ^= signed(2) << 16;
    }
    if tail.len() >= 2 {
        k1 ^= signed(1) << 8;
    }
    if !tail.is_empty() {
        k1 ^= signed(0);
        hash ^= k1.wrapping_mul(C1).rotate_left(R1).wrapping_mul(C2);
    }
    fmix(data.len() as u32, hash) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_vectors_for_ascii_input() {
        // Published MurmurHash3_x86_32 test vectors (ASCII tails are not affected by Hive's
        // sign extension).
        assert_eq!(hash32(b"", 0), 0);
        assert_eq!(hash32(b"", 1) as u32, 0x514e_28b7);
        assert_eq!(hash32(b"aaaa", 0x9747_b28c) as u32, 0x5a97_808a);
        assert_eq!(hash32(b"abc", 0) as u32, 0xb3dd_93fa);
        assert_eq!(hash32(b"Hello, world!", 1234) as u32, 0xfaf6_cdb3);
    }
}
