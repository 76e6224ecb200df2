//! CloudWatch metric units and storage resolutions.

use std::fmt;
use std::str::FromStr;

use crate::MetricError;

macro_rules! units {
    ($($variant:ident => $name:literal),* $(,)?) => {
        /// A CloudWatch metric unit, spelled in EMF exactly as [`Unit::as_str`] returns.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Unit {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Unit {
            /// Every unit CloudWatch accepts.
            pub const ALL: &'static [Unit] = &[$(Unit::$variant),*];

            /// The EMF spelling (`"Count/Second"`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Unit::$variant => $name,)*
                }
            }
        }

        impl FromStr for Unit {
            type Err = MetricError;

            /// Parses a CloudWatch unit name exactly as CloudWatch spells it.
            fn from_str(s: &str) -> Result<Self, MetricError> {
                match s {
                    $($name => Ok(Unit::$variant),)*
                    _ => Err(MetricError::InvalidUnit(s.to_owned())),
                }
            }
        }
    };
}

units! {
    Seconds => "Seconds",
    Microseconds => "Microseconds",
    Milliseconds => "Milliseconds",
    Bytes => "Bytes",
    Kilobytes => "Kilobytes",
    Megabytes => "Megabytes",
    Gigabytes => "Gigabytes",
    Terabytes => "Terabytes",
    Bits => "Bits",
    Kilobits => "Kilobits",
    Megabits => "Megabits",
    Gigabits => "Gigabits",
    Terabits => "Terabits",
    Percent => "Percent",
    Count => "Count",
    BytesPerSecond => "Bytes/Second",
    KilobytesPerSecond => "Kilobytes/Second",
    MegabytesPerSecond => "Megabytes/Second",
    GigabytesPerSecond => "Gigabytes/Second",
    TerabytesPerSecond => "Terabytes/Second",
    BitsPerSecond => "Bits/Second",
    KilobitsPerSecond => "Kilobits/Second",
    MegabitsPerSecond => "Megabits/Second",
    GigabitsPerSecond => "Gigabits/Second",
    TerabitsPerSecond => "Terabits/Second",
    CountPerSecond => "Count/Second",
    None => "None",
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How finely CloudWatch stores a metric (`StorageResolution` in EMF).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// 60 seconds (the default; not written).
    #[default]
    Standard,
    /// 1 second.
    High,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects() {
        for u in Unit::ALL {
            assert_eq!(u.as_str().parse::<Unit>().expect("parse"), *u);
        }
        assert_eq!(Unit::ALL.len(), 27);
        let e = "Widgets".parse::<Unit>().expect_err("error");
        assert!(e.to_string().contains("Widgets"));
        assert!(
            "count".parse::<Unit>().is_err(),
            "units are case-sensitive in CloudWatch"
        );
    }
}
