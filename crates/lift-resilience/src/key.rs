//! Partition keys: how a request is mapped to a partition (route, tenant, downstream, ...).

use std::fmt::Debug;
use std::hash::Hash;

/// Maps a request to the key of its partition.
///
/// Implemented for every `Fn(&Req) -> K` closure and for [`Global`] (one partition for all).
/// Keys should be cheap to clone (`Arc<str>`, integers, small enums): a clone happens once per
/// new partition, never per call, but computing the key happens on every call.
pub trait KeyFn<Req>: Send + Sync + 'static {
    /// The partition key.
    type Key: PartitionKey;

    /// The key of `req`.
    fn key(&self, req: &Req) -> Self::Key;
}

impl<Req, K, F> KeyFn<Req> for F
where
    F: Fn(&Req) -> K + Send + Sync + 'static,
    K: PartitionKey,
{
    type Key = K;

    #[inline]
    fn key(&self, req: &Req) -> K {
        self(req)
    }
}

/// A single partition shared by every request. Lookups through it take no lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Global;

impl<Req> KeyFn<Req> for Global {
    type Key = ();

    #[inline]
    fn key(&self, _req: &Req) {}
}

/// What a partition key must be: hashable, comparable, cloneable, printable in events.
pub trait PartitionKey: Hash + Eq + Clone + Debug + Send + Sync + 'static {}

impl<K: Hash + Eq + Clone + Debug + Send + Sync + 'static> PartitionKey for K {}

/// A key that a distributed store can keep: written as bytes that are stable across processes
/// and builds (unlike `Hash`, which is seeded per process), and unambiguous: two different keys
/// of one type never write the same bytes. Every impl writes a self-delimiting encoding
/// (strings length-prefixed, integers fixed-width big-endian, options and addresses tagged),
/// so tuples of them, written one after another, stay unambiguous too.
///
/// Implemented for `()`, strings (`str` and so `&str`, `String`, `Arc<str>`, `Box<str>`), integers,
/// `bool`, `IpAddr` and friends, `Option<T>` and tuples up to four. Implement it for your own key
/// types by writing their fields in order.
pub trait StoreKey {
    /// Append this key's bytes to `out`.
    fn write_key(&self, out: &mut Vec<u8>);
}

impl StoreKey for () {
    #[inline]
    fn write_key(&self, _out: &mut Vec<u8>) {}
}

fn write_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u64).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

macro_rules! store_key_str {
    ($($t:ty),*) => {$(
        impl StoreKey for $t {
            #[inline]
            fn write_key(&self, out: &mut Vec<u8>) {
                write_str(self, out);
            }
        }
    )*};
}
store_key_str!(str, String, std::sync::Arc<str>, Box<str>);

macro_rules! store_key_int {
    ($($t:ty),*) => {$(
        impl StoreKey for $t {
            #[inline]
            fn write_key(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
        }
    )*};
}
store_key_int!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

impl StoreKey for bool {
    #[inline]
    fn write_key(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl StoreKey for std::net::Ipv4Addr {
    #[inline]
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.octets());
    }
}

impl StoreKey for std::net::Ipv6Addr {
    #[inline]
    fn write_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.octets());
    }
}

impl StoreKey for std::net::IpAddr {
    #[inline]
    fn write_key(&self, out: &mut Vec<u8>) {
        match self {
            std::net::IpAddr::V4(a) => {
                out.push(4);
                a.write_key(out);
            }
            std::net::IpAddr::V6(a) => {
                out.push(6);
                a.write_key(out);
            }
        }
    }
}

impl<T: StoreKey> StoreKey for Option<T> {
    #[inline]
    fn write_key(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.write_key(out);
            }
        }
    }
}

impl<T: StoreKey + ?Sized> StoreKey for &T {
    #[inline]
    fn write_key(&self, out: &mut Vec<u8>) {
        (**self).write_key(out);
    }
}

macro_rules! store_key_tuple {
    ($($n:tt $t:ident),+) => {
        impl<$($t: StoreKey),+> StoreKey for ($($t,)+) {
            #[inline]
            fn write_key(&self, out: &mut Vec<u8>) {
                $(self.$n.write_key(out);)+
            }
        }
    };
}
store_key_tuple!(0 A);
store_key_tuple!(0 A, 1 B);
store_key_tuple!(0 A, 1 B, 2 C);
store_key_tuple!(0 A, 1 B, 2 C, 3 D);

#[cfg(test)]
mod tests {
    use super::StoreKey;

    fn bytes<K: StoreKey>(k: K) -> Vec<u8> {
        let mut out = Vec::new();
        k.write_key(&mut out);
        out
    }

    #[test]
    fn tuples_of_strings_that_concatenate_alike_write_different_bytes() {
        assert_ne!(bytes(("ab", "c")), bytes(("a", "bc")));
        assert_ne!(bytes((Some("a"), None::<&str>)), bytes((None::<&str>, Some("a"))));
        assert_ne!(
            bytes(
                "127.0.0.1"
                    .parse::<std::net::IpAddr>()
                    .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into())
            ),
            bytes(std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST))
        );
        assert_eq!(bytes(String::from("x")), bytes("x"));
        assert_eq!(bytes(()), Vec::<u8>::new());
        assert_eq!(bytes(258u16), vec![1, 2]);
    }
}
