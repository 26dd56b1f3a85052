//! The WAL chain, pure: which segments a retained backup needs to reach the
//! server's present, across the timelines the server's history crossed,
//! and which of them the archive lacks. A gap is a run of missing segments
//! on one timeline; it cuts every backup that started before it off from
//! every point after it. Segment arithmetic follows PostgreSQL's: a name is
//! `TTTTTTTTXXXXXXXXYYYYYYYY` (timeline, log, segment within the log), and
//! a timeline switch at LSN `S` continues on the new timeline from the
//! segment holding `S` (the old timeline's copy of it is partial).

use std::collections::BTreeSet;

/// A segment: (timeline, number), the number counting from LSN 0.
pub(crate) type Segment = (u32, u64);

/// `TTTTTTTTXXXXXXXXYYYYYYYY` of a segment.
pub(crate) fn name(segment: Segment, segment_size: u64) -> String {
    let per_log = 0x1_0000_0000 / segment_size;
    format!(
        "{:08X}{:08X}{:08X}",
        segment.0,
        segment.1 / per_log,
        segment.1 % per_log
    )
}

/// The segment a 24-hex-digit name (a prefix of a longer file name) names.
pub(crate) fn parse(text: &str, segment_size: u64) -> Option<Segment> {
    let name = text.get(..24)?;
    if !name.bytes().all(|b| b.is_ascii_hexdigit()) || segment_size == 0 {
        return None;
    }
    let timeline = u32::from_str_radix(&name[..8], 16).ok()?;
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..24], 16).ok()?;
    let per_log = 0x1_0000_0000 / segment_size;
    (seg < per_log && timeline > 0).then_some((timeline, log * per_log + seg))
}

/// The segment number holding `lsn`.
pub(crate) fn number(lsn: u64, segment_size: u64) -> u64 {
    lsn / segment_size
}

/// One switch of a timeline history file: `parent` ended at `switch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Switch {
    pub(crate) parent: u32,
    pub(crate) switch: u64,
}

/// `TTTTTTTT.history`: one line per ancestor, `parent<TAB>X/Y<TAB>reason`;
/// comments and blank lines skipped. `None` when a line does not read.
pub(crate) fn parse_history(text: &str) -> Option<Vec<Switch>> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let parent = fields.next()?.parse().ok()?;
        let (high, low) = fields.next()?.split_once('/')?;
        let switch =
            (u64::from_str_radix(high, 16).ok()? << 32) | u64::from_str_radix(low, 16).ok()?;
        out.push(Switch { parent, switch });
    }
    Some(out)
}

/// The segment ranges `[from, to]` (inclusive, per timeline) that replay
/// from `start` must find to reach just before `end`, following `history`
/// (the end timeline's file: its ancestors in order). A start on a timeline
/// the history does not lead through needs nothing here (another finding).
pub(crate) fn needed(
    start: Segment,
    end: Segment,
    history: &[Switch],
    segment_size: u64,
) -> Vec<(u32, u64, u64)> {
    // Each timeline on the path and the segment it hands over at.
    let mut path: Vec<(u32, Option<u64>)> = history
        .iter()
        .map(|s| (s.parent, Some(number(s.switch, segment_size))))
        .collect();
    path.push((end.0, None));
    let Some(first) = path.iter().position(|(tl, _)| *tl == start.0) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut from = start.1;
    for (timeline, handover) in &path[first..] {
        // The last whole segment of this timeline: before the handover's
        // (partial here), or before the server's current one.
        let (to, next) = match handover {
            Some(at) => (at.checked_sub(1), *at),
            None => (end.1.checked_sub(1), end.1),
        };
        if let Some(to) = to.filter(|to| *to >= from) {
            out.push((*timeline, from, to));
        }
        from = from.max(next);
    }
    out
}

/// The missing runs `(timeline, first, last)` of `needed` in `present`.
pub(crate) fn gaps(
    needed: &[(u32, u64, u64)],
    present: &BTreeSet<Segment>,
) -> Vec<(u32, u64, u64)> {
    let mut out: Vec<(u32, u64, u64)> = Vec::new();
    for (timeline, from, to) in needed {
        for segno in *from..=*to {
            if present.contains(&(*timeline, segno)) {
                continue;
            }
            match out.last_mut() {
                Some((tl, _, last)) if *tl == *timeline && *last + 1 == segno => *last = segno,
                _ => out.push((*timeline, segno, segno)),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZE: u64 = 16 << 20;

    #[test]
    fn names_and_numbers_round_trip() {
        assert_eq!(parse("000000010000000000000003", SIZE), Some((1, 3)));
        assert_eq!(
            parse("0000000200000001000000FF-abc.gz", SIZE),
            Some((2, 511))
        );
        assert_eq!(name((2, 511), SIZE), "0000000200000001000000FF");
        assert_eq!(parse("000000010000000000000100", SIZE), None);
        assert_eq!(parse("00000002.history", SIZE), None);
        assert_eq!(number(0x0300_0028, SIZE), 3);
    }

    #[test]
    fn a_history_file_reads_and_a_bad_one_does_not() {
        let text = "1\t0/5000098\tno recovery target specified\n\n2\t0/90000A0\tat restore point\n";
        assert_eq!(
            parse_history(text),
            Some(vec![
                Switch {
                    parent: 1,
                    switch: 0x0500_0098
                },
                Switch {
                    parent: 2,
                    switch: 0x0900_00A0
                }
            ])
        );
        assert_eq!(parse_history("x\t0/1\n"), None);
    }

    #[test]
    fn the_chain_follows_the_timelines_and_names_each_gap() {
        // Timeline 1 to segment 5 (switch inside 5), then timeline 2 from 5.
        let history = [Switch {
            parent: 1,
            switch: 0x0500_0098,
        }];
        let need = needed((1, 2), (2, 9), &history, SIZE);
        assert_eq!(need, [(1, 2, 4), (2, 5, 8)]);
        let all: BTreeSet<Segment> =
            [(1, 2), (1, 3), (1, 4), (2, 5), (2, 6), (2, 7), (2, 8)].into();
        assert!(gaps(&need, &all).is_empty());
        let mut holed = all.clone();
        holed.remove(&(1, 3));
        holed.remove(&(2, 6));
        holed.remove(&(2, 7));
        assert_eq!(gaps(&need, &holed), [(1, 3, 3), (2, 6, 7)]);
        // A start on the new timeline needs only its part.
        assert_eq!(needed((2, 6), (2, 9), &history, SIZE), [(2, 6, 8)]);
        // The current segment is not needed yet; nothing before the start is.
        assert_eq!(needed((1, 9), (1, 9), &[], SIZE), []);
        assert_eq!(needed((1, 7), (1, 9), &[], SIZE), [(1, 7, 8)]);
        // A start on a timeline off the server's path.
        assert!(needed((3, 1), (2, 9), &history, SIZE).is_empty());
    }
}
