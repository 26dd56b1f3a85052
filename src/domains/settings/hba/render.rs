//! The HBA file's text: one line per rule, names double-quoted (keywords
//! bare), with a comment saying why each group of lines is there. Pure.

use super::desired::{Address, DesiredHba, Kind, Line, Name};

pub(crate) const HEADER: &str =
    "# Managed by dbops ([server.hba]): edits here are reverted by the next apply.";

fn names(list: &[Name]) -> String {
    list.iter()
        .map(|name| match name {
            Name::All => "all".to_string(),
            Name::Named(n) => format!("\"{n}\""),
            Name::Group(g) => format!("+{g}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn address(address: Option<Address>) -> String {
    match address {
        None => String::new(),
        Some(Address::All) => "all".into(),
        Some(Address::Cidr(ip, bits)) => format!("{ip}/{bits}"),
    }
}

fn columns(line: &Line) -> [String; 5] {
    [
        line.kind.word().to_string(),
        names(&line.databases),
        names(&line.users),
        if line.kind == Kind::Local {
            String::new()
        } else {
            address(line.address)
        },
        line.method.word().to_string(),
    ]
}

pub(crate) fn render(desired: &DesiredHba) -> String {
    let rows: Vec<[String; 5]> = desired.lines.iter().map(columns).collect();
    let mut widths = [0usize; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = format!("{HEADER}\n");
    let mut last_why = None;
    for (line, row) in desired.lines.iter().zip(&rows) {
        if last_why != Some(&line.why) {
            out.push_str(&format!("\n# {}\n", line.why));
            last_why = Some(&line.why);
        }
        let mut text = String::new();
        for (index, (cell, width)) in row.iter().zip(widths).enumerate() {
            if index == 4 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}
