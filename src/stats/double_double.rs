//! Double-double arithmetic (an unevaluated sum `hi + lo` of two f64), as xsf/cephes's
//! `dd_real.h` from the qd package, and the C `ldexp` / `frexp` it relies on: the extra
//! precision the Smirnov sum and the Durbin / Pomeranz recursions of [`super::kolmogorov`]
//! need to follow scipy's C code operation for operation.

/// An unevaluated sum hi + lo with |lo| ≤ ulp(hi)/2.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dd {
    pub(super) hi: f64,
    pub(super) lo: f64,
}

/// fl(a+b) and its error, assuming |a| ≥ |b|.
pub(super) fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let c = s - a;
    (s, b - c)
}

/// fl(a+b) and its error.
pub(super) fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let c = s - a;
    let d = b - c;
    let e = s - c;
    (s, (a - e) + d)
}

/// fl(a·b) and its error.
pub(super) fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

impl Dd {
    pub(super) fn new(hi: f64) -> Dd {
        Dd { hi, lo: 0.0 }
    }

    pub(super) fn neg(self) -> Dd {
        Dd { hi: -self.hi, lo: -self.lo }
    }

    /// dd + dd (the IEEE-style variant of Briggs and Kahan).
    pub(super) fn add(self, rhs: Dd) -> Dd {
        let (s1, s2) = two_sum(self.hi, rhs.hi);
        let (t1, t2) = two_sum(self.lo, rhs.lo);
        let s2 = s2 + t1;
        let (s1, s2) = quick_two_sum(s1, s2);
        let s2 = s2 + t2;
        let (hi, lo) = quick_two_sum(s1, s2);
        Dd { hi, lo }
    }

    pub(super) fn sub(self, rhs: Dd) -> Dd {
        self.add(rhs.neg())
    }

    /// dd + double.
    pub(super) fn add_f(self, rhs: f64) -> Dd {
        let (s1, s2) = two_sum(self.hi, rhs);
        let s2 = s2 + self.lo;
        let (hi, lo) = quick_two_sum(s1, s2);
        Dd { hi, lo }
    }

    /// dd − double.
    pub(super) fn sub_f(self, rhs: f64) -> Dd {
        let (s1, s2) = two_sum(self.hi, -rhs);
        let s2 = s2 + self.lo;
        let (hi, lo) = quick_two_sum(s1, s2);
        Dd { hi, lo }
    }

    /// dd · dd.
    pub(super) fn mul(self, rhs: Dd) -> Dd {
        let (p1, p2) = two_prod(self.hi, rhs.hi);
        let p2 = p2 + (self.hi * rhs.lo + self.lo * rhs.hi);
        let (hi, lo) = quick_two_sum(p1, p2);
        Dd { hi, lo }
    }

    /// dd · double (also double · dd, which xsf computes identically).
    pub(super) fn mul_f(self, rhs: f64) -> Dd {
        let (p1, e1) = two_prod(self.hi, rhs);
        let (p2, e2) = two_prod(self.lo, rhs);
        let (hi, lo) = quick_two_sum(p1, e2 + p2 + e1);
        Dd { hi, lo }
    }

    /// dd / dd.
    pub(super) fn div(self, rhs: Dd) -> Dd {
        let q1 = self.hi / rhs.hi;
        let r = self.sub(rhs.mul_f(q1));
        let q2 = r.hi / rhs.hi;
        let r = r.sub(rhs.mul_f(q2));
        let q3 = r.hi / rhs.hi;
        let (q1, q2) = quick_two_sum(q1, q2);
        Dd { hi: q1, lo: q2 }.add_f(q3)
    }

    /// dd / double.
    pub(super) fn div_f(self, rhs: f64) -> Dd {
        self.div(Dd::new(rhs))
    }

    /// Multiplication by an exact power of two.
    pub(super) fn mul_pwr2(self, p: f64) -> Dd {
        Dd { hi: self.hi * p, lo: self.lo * p }
    }

    /// `!= 0.0` as xsf defines it.
    pub(super) fn ne0(self) -> bool {
        self.hi != 0.0 || self.lo != 0.0
    }

    pub(super) fn floor(self) -> Dd {
        let hi = self.hi.floor();
        if hi == self.hi {
            // High word is an integer already: round the low word.
            let (hi, lo) = quick_two_sum(hi, self.lo.floor());
            return Dd { hi, lo };
        }
        Dd { hi, lo: 0.0 }
    }

    pub(super) fn ldexp(self, e: i64) -> Dd {
        let e = e.clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        Dd { hi: ldexp(self.hi, e), lo: ldexp(self.lo, e) }
    }

    /// (b, l) with 0.5 ≤ |b.hi| < 1 (or |b.hi| = 1 with b.hi·b.lo < 0) and self = b·2^l.
    pub(super) fn frexp(self) -> (Dd, i32) {
        let (mut man, mut exponent) = frexp(self.hi);
        let mut b1 = ldexp(self.lo, -exponent);
        if man.abs() == 0.5 && man * b1 < 0.0 {
            man *= 2.0;
            b1 *= 2.0;
            exponent -= 1;
        }
        (Dd { hi: man, lo: b1 }, exponent)
    }

    pub(super) fn clip01(self) -> Dd {
        if self.hi < 0.0 || (self.hi == 0.0 && self.lo < 0.0) {
            Dd::new(0.0)
        } else if self.hi > 1.0 || (self.hi == 1.0 && self.lo > 0.0) {
            Dd::new(1.0)
        } else {
            self
        }
    }
}

/// C `ldexp` / `scalbn` (musl's algorithm: one rounding, also for subnormal results).
pub(super) fn ldexp(x: f64, n: i32) -> f64 {
    let p1023 = f64::from_bits(0x7fe << 52); // 2^1023
    let pm1022_53 = f64::from_bits(0x001 << 52) * f64::from_bits((1023 + 53) << 52); // 2^-1022 · 2^53
    let mut y = x;
    let mut n = n;
    if n > 1023 {
        y *= p1023;
        n -= 1023;
        if n > 1023 {
            y *= p1023;
            n -= 1023;
            if n > 1023 {
                n = 1023;
            }
        }
    } else if n < -1022 {
        // Keep the final n below −53 so that the last multiplication rounds only once.
        y *= pm1022_53;
        n += 1022 - 53;
        if n < -1022 {
            y *= pm1022_53;
            n += 1022 - 53;
            if n < -1022 {
                n = -1022;
            }
        }
    }
    y * f64::from_bits(((0x3ff + n) as u64) << 52)
}

/// C `frexp`: (m, e) with x = m·2^e and 0.5 ≤ |m| < 1 (m = x for 0, inf, NaN).
pub(super) fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let ee = ((bits >> 52) & 0x7ff) as i32;
    if ee == 0 {
        if x != 0.0 {
            let (m, e) = frexp(x * f64::from_bits((1023 + 64) << 52));
            return (m, e - 64);
        }
        return (x, 0);
    }
    if ee == 0x7ff {
        return (x, 0);
    }
    let m = f64::from_bits((bits & 0x800f_ffff_ffff_ffff) | 0x3fe0_0000_0000_0000);
    (m, ee - 0x3fe)
}
