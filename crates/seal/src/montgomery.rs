//! The RSA public-key operation `m^e mod n`, in safe Rust, for sealing.
//!
//! Sealing needs only the public half of RSA: the controller's key wraps each session key, and
//! nothing secret about the *key* is involved, so the timing attack on the `rsa` crate
//! (RUSTSEC-2023-0071, Marvin) does not apply here: it recovers private keys from the timing of
//! private-key operations. What is secret in a public operation is the message (the OAEP
//! encoding, from which the session key could be recovered): the arithmetic below is written
//! without branches or memory indices that depend on it (the exponent is public and drives the
//! only branches).
//!
//! Montgomery multiplication in the interleaved "CIOS" form (Koç, Acar and Kaliski, "Analyzing
//! and comparing Montgomery multiplication algorithms", 1996) over 64-bit limbs, with a dedicated
//! squaring, since a public exponent such as 65537 costs sixteen squarings and one product.

/// A 64-bit limb and its double-width product type.
type Limb = u64;
type Wide = u128;

/// An RSA modulus prepared for repeated public-key operations (`R = 2^(64·limbs)`).
#[derive(Clone, Debug)]
pub(crate) struct PublicOp {
    /// The modulus, least significant limb first.
    n: Vec<Limb>,
    /// `-n^-1 mod 2^64`.
    n0_inv: Limb,
    /// `R^2 mod n`: turns a number into Montgomery form with one product.
    r_squared: Vec<Limb>,
    /// The public exponent.
    e: u64,
    /// The modulus length in bytes (the length of every block).
    bytes: usize,
}

impl PublicOp {
    /// Prepares the big-endian modulus `n` (odd, more than one limb) and exponent `e` (odd, > 1).
    pub(crate) fn new(n_be: &[u8], e: u64) -> Option<PublicOp> {
        let n_be = strip_leading_zeros(n_be);
        let n = limbs_from_be(n_be, n_be.len().div_ceil(8));
        if n.len() < 2 || n[0] & 1 == 0 || e < 3 || e & 1 == 0 {
            return None;
        }
        let n0_inv = negated_inverse(n[0]);
        let mut op = PublicOp {
            r_squared: Vec::new(),
            n,
            n0_inv,
            e,
            bytes: n_be.len(),
        };
        op.r_squared = op.compute_r_squared();
        Some(op)
    }

    /// The modulus length in bytes.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// `m^e mod n` for the big-endian `m` (`m < n`, checked), written big-endian into `out`
    /// (exactly [`PublicOp::bytes`] long). `None` when `m >= n` or a length is wrong.
    pub(crate) fn apply(&self, m_be: &[u8], out: &mut [u8]) -> Option<()> {
        if m_be.len() != self.bytes || out.len() != self.bytes {
            return None;
        }
        let m = limbs_from_be(m_be, self.n.len());
        if !less_than(&m, &self.n) {
            return None;
        }
        let mut scratch = vec![0; self.n.len() + 1];
        let base = self.mul(&m, &self.r_squared, &mut scratch);
        let mut acc = base.clone();
        let top = 63 - self.e.leading_zeros();
        for bit in (0..top).rev() {
            acc = self.square(&acc);
            if (self.e >> bit) & 1 == 1 {
                acc = self.mul(&acc, &base, &mut scratch);
            }
        }
        let mut one = vec![0; self.n.len()];
        one[0] = 1;
        let result = self.mul(&acc, &one, &mut scratch);
        limbs_to_be(&result, out);
        Some(())
    }

    /// `a·b·R^-1 mod n` for `a, b < n`; the result is fully reduced.
    fn mul(&self, a: &[Limb], b: &[Limb], t: &mut [Limb]) -> Vec<Limb> {
        let k = self.n.len();
        t.fill(0);
        for &bi in b {
            let (lo, mut c1) = mac(t[0], a[0], bi, 0);
            let m = lo.wrapping_mul(self.n0_inv);
            let (_, mut c2) = mac(lo, m, self.n[0], 0);
            for j in 1..k {
                let (x, carry1) = mac(t[j], a[j], bi, c1);
                let (y, carry2) = mac(x, m, self.n[j], c2);
                t[j - 1] = y;
                c1 = carry1;
                c2 = carry2;
            }
            let top = Wide::from(t[k]) + Wide::from(c1) + Wide::from(c2);
            t[k - 1] = top as Limb;
            t[k] = (top >> 64) as Limb;
        }
        self.reduce_once(t)
    }

    /// `a·a·R^-1 mod n`: the off-diagonal products once, doubled, plus the squares, then a
    /// Montgomery reduction of the double-width result.
    fn square(&self, a: &[Limb]) -> Vec<Limb> {
        let k = self.n.len();
        let mut w: Vec<Limb> = vec![0; 2 * k + 1];
        for i in 0..k {
            let mut carry = 0;
            for j in i + 1..k {
                let (x, c) = mac(w[i + j], a[i], a[j], carry);
                w[i + j] = x;
                carry = c;
            }
            w[i + k] = carry;
        }
        let mut shifted = 0;
        for limb in w.iter_mut().take(2 * k) {
            let next = *limb >> 63;
            *limb = (*limb << 1) | shifted;
            shifted = next;
        }
        let mut carry = 0;
        for i in 0..k {
            let (lo, hi) = mac(w[2 * i], a[i], a[i], carry);
            w[2 * i] = lo;
            let sum = Wide::from(w[2 * i + 1]) + Wide::from(hi);
            w[2 * i + 1] = sum as Limb;
            carry = (sum >> 64) as Limb;
        }
        self.redc(&mut w)
    }

    /// Montgomery reduction of a double-width `w < n·R` (with one spare limb): `w·R^-1 mod n`.
    fn redc(&self, w: &mut [Limb]) -> Vec<Limb> {
        let k = self.n.len();
        let mut spill = 0;
        for i in 0..k {
            let m = w[i].wrapping_mul(self.n0_inv);
            let mut carry = 0;
            for j in 0..k {
                let (x, c) = mac(w[i + j], m, self.n[j], carry);
                w[i + j] = x;
                carry = c;
            }
            let sum = Wide::from(w[i + k]) + Wide::from(carry) + Wide::from(spill);
            w[i + k] = sum as Limb;
            spill = (sum >> 64) as Limb;
        }
        w[2 * k] = spill;
        self.reduce_once(&w[k..])
    }

    /// `t mod n` for `t < 2n` (`k + 1` limbs), without a branch on `t`.
    fn reduce_once(&self, t: &[Limb]) -> Vec<Limb> {
        let k = self.n.len();
        let mut diff = vec![0; k];
        let mut borrow = 0;
        for ((d, &x), &y) in diff.iter_mut().zip(t).zip(&self.n) {
            let (d1, b1) = x.overflowing_sub(y);
            let (d2, b2) = d1.overflowing_sub(borrow);
            *d = d2;
            borrow = Limb::from(b1 | b2);
        }
        let (_, below) = t[k].overflowing_sub(borrow);
        // All ones when t < n (keep t), zero when t >= n (take t - n).
        let keep = Limb::from(below).wrapping_neg();
        (0..k).map(|j| (t[j] & keep) | (diff[j] & !keep)).collect()
    }

    /// `R^2 mod n`, from `2^(bits-1) < n` by doublings to the Montgomery form of `2^64`, then
    /// raising that to the power `limbs` in Montgomery form.
    fn compute_r_squared(&self) -> Vec<Limb> {
        let k = self.n.len();
        let bits = 64 * k - self.n[k - 1].leading_zeros() as usize;
        let mut x = vec![0; k];
        x[(bits - 1) / 64] = 1 << ((bits - 1) % 64);
        for _ in bits - 1..64 * k {
            x = self.double(&x);
        }
        let one_mont = x.clone();
        for _ in 0..64 {
            x = self.double(&x);
        }
        let mut scratch = vec![0; k + 1];
        let mut acc = one_mont;
        for bit in (0..usize::BITS - k.leading_zeros()).rev() {
            acc = self.mul(&acc, &acc, &mut scratch);
            if (k >> bit) & 1 == 1 {
                acc = self.mul(&acc, &x, &mut scratch);
            }
        }
        acc
    }

    /// `2x mod n` for `x < n`.
    fn double(&self, x: &[Limb]) -> Vec<Limb> {
        let mut t = Vec::with_capacity(x.len() + 1);
        let mut shifted = 0;
        for &limb in x {
            t.push((limb << 1) | shifted);
            shifted = limb >> 63;
        }
        t.push(shifted);
        self.reduce_once(&t)
    }
}

/// `a + b·c + carry` as (low limb, high limb); it cannot overflow 128 bits.
#[inline(always)]
fn mac(a: Limb, b: Limb, c: Limb, carry: Limb) -> (Limb, Limb) {
    let wide = Wide::from(a) + Wide::from(b) * Wide::from(c) + Wide::from(carry);
    (wide as Limb, (wide >> 64) as Limb)
}

/// `-x^-1 mod 2^64` for odd `x`, by Newton's iteration (each step doubles the correct bits).
fn negated_inverse(x: Limb) -> Limb {
    let mut inverse: Limb = 1;
    for _ in 0..6 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(x.wrapping_mul(inverse)));
    }
    inverse.wrapping_neg()
}

/// `a < b` for equal-length limb vectors, without a branch on the values.
fn less_than(a: &[Limb], b: &[Limb]) -> bool {
    let mut borrow = 0;
    for (x, y) in a.iter().zip(b) {
        let (d1, b1) = x.overflowing_sub(*y);
        let (_, b2) = d1.overflowing_sub(borrow);
        borrow = Limb::from(b1 | b2);
    }
    borrow == 1
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

/// Big-endian bytes to `count` little-endian limbs (the bytes must fit).
fn limbs_from_be(bytes: &[u8], count: usize) -> Vec<Limb> {
    let mut limbs = vec![0; count];
    for (index, &byte) in bytes.iter().rev().enumerate() {
        limbs[index / 8] |= Limb::from(byte) << (8 * (index % 8));
    }
    limbs
}

/// Little-endian limbs to big-endian bytes filling `out` (the value must fit).
fn limbs_to_be(limbs: &[Limb], out: &mut [u8]) {
    for (index, byte) in out.iter_mut().rev().enumerate() {
        *byte = (limbs[index / 8] >> (8 * (index % 8))) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::traits::PublicKeyParts;
    use rsa::BigUint;

    fn reference(n: &BigUint, e: u64, m: &BigUint) -> BigUint {
        m.modpow(&BigUint::from(e), n)
    }

    fn padded(value: &BigUint, len: usize) -> Vec<u8> {
        let bytes = value.to_bytes_be();
        let mut out = vec![0; len - bytes.len()];
        out.extend_from_slice(&bytes);
        out
    }

    /// Against the `rsa` crate's big integers, for moduli of several shapes (a top limb that is
    /// full, and ones that are not) and messages at the edges (0, 1, n-1) and in between.
    #[test]
    fn matches_big_integer_modpow() {
        let fixture = include_str!("../../../tests/fixtures/sealed-secrets-go/go-key.pem");
        let go_key = crate::PrivateKeys::from_pem(fixture.as_bytes()).expect("go key");
        let mut moduli: Vec<BigUint> = vec![go_key.keys()[0].n().clone()];
        // Odd moduli that are not RSA keys but exercise partial top limbs and small sizes.
        for bits in [130usize, 1000, 2047, 2049] {
            let n = (BigUint::from(1u8) << bits) - BigUint::from(159u32);
            moduli.push(n);
        }
        for n in &moduli {
            for e in [3u64, 65537, (1 << 33) + 1] {
                let op = PublicOp::new(&n.to_bytes_be(), e).expect("valid modulus");
                let len = op.bytes();
                let samples = [
                    BigUint::from(0u8),
                    BigUint::from(1u8),
                    n - BigUint::from(1u8),
                    n >> 1,
                    (n >> 3) + BigUint::from(12345u32),
                ];
                for m in &samples {
                    let mut out = vec![0; len];
                    op.apply(&padded(m, len), &mut out).expect("m < n");
                    assert_eq!(
                        out,
                        padded(&reference(n, e, m), len),
                        "n={n:x} e={e} m={m:x}"
                    );
                }
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_public_key_or_not_below_it() {
        assert!(
            PublicOp::new(&[0x10, 0, 0, 0, 0, 0, 0, 0, 0], 65537).is_none(),
            "even"
        );
        assert!(PublicOp::new(&[0x7f], 65537).is_none(), "one limb");
        let n = [0xff; 24];
        assert!(PublicOp::new(&n, 65536).is_none(), "even exponent");
        assert!(PublicOp::new(&n, 1).is_none(), "exponent 1");
        let op = PublicOp::new(&n, 65537).expect("odd modulus");
        let mut out = [0u8; 24];
        assert!(op.apply(&n, &mut out).is_none(), "m = n");
        assert!(op.apply(&n[1..], &mut out[1..]).is_none(), "short input");
    }
}
