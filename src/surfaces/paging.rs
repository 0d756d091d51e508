//! Pages of a list as SQL `LIMIT` and `OFFSET`. Every surface counts pages from 1 and bounds
//! the page size; the documents differ only in parameter names, defaults, the largest size
//! and the wording of a refusal, which stay with each surface's thin wrapper.

use super::Failure;

/// Which value of a page request is out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutOfRange {
    Number,
    Size,
}

/// Page `number` (from 1, default 1) of `size` rows (1 to `max_size`, default
/// `default_size`) as (limit, offset).
pub fn window(
    number: Option<i64>,
    size: Option<i64>,
    default_size: i64,
    max_size: i64,
) -> Result<(i64, i64), OutOfRange> {
    let (number, size) = (number.unwrap_or(1), size.unwrap_or(default_size));
    if number < 1 {
        return Err(OutOfRange::Number);
    }
    if !(1..=max_size).contains(&size) {
        return Err(OutOfRange::Size);
    }
    Ok((size, (number - 1).saturating_mul(size)))
}

/// `pageNum` (from 1) and `pageSize` (1 to 500, else `default_size`) as (limit, offset):
/// the system and open surfaces.
pub fn paging(page_num: Option<i64>, page_size: Option<i64>, default_size: i64) -> Result<(i64, i64), Failure> {
    window(page_num, page_size, default_size, 500)
        .map_err(|_| Failure::Invalid("pageNum must be at least 1 and pageSize between 1 and 500".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_count_from_one_within_the_size_range() {
        assert_eq!(window(None, None, 40, 1000), Ok((40, 0)));
        assert_eq!(window(Some(3), Some(25), 40, 1000), Ok((25, 50)));
        assert_eq!(window(Some(0), Some(25), 40, 1000), Err(OutOfRange::Number));
        assert_eq!(window(Some(1), Some(0), 40, 1000), Err(OutOfRange::Size));
        assert_eq!(window(Some(1), Some(1001), 40, 1000), Err(OutOfRange::Size));
        assert_eq!(window(Some(i64::MAX), Some(1000), 40, 1000), Ok((1000, i64::MAX)));
    }
}
