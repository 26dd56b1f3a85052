//! The text of the desired-state file and the map from byte spans back to
//! `file:line:column` and dotted key paths, so every config error can say where.

use std::ops::Range;

use toml_edit::{Document, Item, Table, TableLike};

use crate::diagnostics::Locate;
use crate::error::Location;

pub(crate) struct SourceFile {
    /// The path as the user gave it, for messages.
    pub(crate) name: String,
    pub(crate) text: String,
    /// Parsed only when a location is first asked for: a file without
    /// problems never pays for a second parse, nor holds it in memory.
    document: std::sync::OnceLock<Option<Document<String>>>,
    /// Byte offset where each line starts, so a location costs a binary search.
    line_starts: Vec<usize>,
    /// One environment's merged view (`[environments.NAME]` over the shared
    /// declarations), when one is selected: paths are located in it, and
    /// each of its values still carries the span where it is written.
    view: Option<Item>,
    /// The selected environment's name.
    pub(crate) environment: Option<String>,
}

impl SourceFile {
    pub(crate) fn new(name: String, text: String) -> Self {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self {
            name,
            text,
            document: std::sync::OnceLock::new(),
            line_starts,
            view: None,
            environment: None,
        }
    }

    /// The same text, seen through `root`: environment `name`'s merged
    /// view, or (no name) the shared declarations alone.
    pub(crate) fn with_view(&self, name: Option<&str>, root: Table) -> Self {
        let mut copy = Self::new(self.name.clone(), self.text.clone());
        copy.view = Some(Item::Table(root));
        copy.environment = name.map(str::to_string);
        copy
    }

    /// The root the file's paths are read in: the selected environment's
    /// merged view, else the document.
    pub(crate) fn root(&self) -> Option<&Table> {
        match &self.view {
            Some(view) => view.as_table(),
            None => self.document().map(Document::as_table),
        }
    }

    pub(crate) fn document(&self) -> Option<&Document<String>> {
        self.document
            .get_or_init(|| Document::parse(self.text.clone()).ok())
            .as_ref()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub(crate) fn location(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|start| *start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        Location {
            file: self.name.clone(),
            line,
            column,
        }
    }

    /// Where the value of a dotted key path is written (or its key, for tables
    /// declared by a header). Path segments that parse as numbers index arrays.
    pub(crate) fn locate(&self, path: &[&str]) -> Option<Location> {
        self.span_of(path).map(|span| self.location(span.start))
    }

    fn span_of(&self, path: &[&str]) -> Option<Range<usize>> {
        enum Node<'a> {
            Item(&'a Item),
            Table(&'a Table),
        }
        let root = match &self.view {
            Some(view) => view,
            None => self.document()?.as_item(),
        };
        let mut node = Node::Item(root);
        let mut span = None;
        for segment in path {
            let table: Option<&dyn TableLike> = match node {
                Node::Item(item) => item.as_table_like(),
                Node::Table(table) => Some(table),
            };
            if let Some(table) = table {
                let (key, child) = table.get_key_value(segment)?;
                span = child.span().or_else(|| key.span()).or(span);
                node = Node::Item(child);
                continue;
            }
            let (Node::Item(item), Ok(index)) = (node, segment.parse::<usize>()) else {
                return span;
            };
            if let Some(array) = item.as_array_of_tables() {
                let table = array.get(index)?;
                span = table.span().or(span);
                node = Node::Table(table);
            } else {
                return item.as_array()?.get(index)?.span().or(span);
            }
        }
        span
    }

    /// The deepest dotted key path whose key or value contains `offset`.
    pub(crate) fn key_path_at(&self, offset: usize) -> Vec<String> {
        let mut path = Vec::new();
        match &self.view {
            Some(view) => descend(view, offset, &mut path),
            None => {
                if let Some(document) = self.document() {
                    descend(document.as_item(), offset, &mut path);
                }
            }
        }
        path
    }
}

impl Locate for SourceFile {
    fn locate(&self, path: &[&str]) -> Option<Location> {
        SourceFile::locate(self, path)
    }
}

fn contains(span: Option<Range<usize>>, offset: usize) -> bool {
    span.is_some_and(|s| s.start <= offset && offset <= s.end)
}

fn descend(item: &Item, offset: usize, path: &mut Vec<String>) {
    if let Some(table) = item.as_table_like() {
        for (name, _) in table.iter() {
            let Some((key, child)) = table.get_key_value(name) else {
                continue;
            };
            let in_child = contains(child.span(), offset);
            let nested = child.as_table_like().is_some() || child.as_array_of_tables().is_some();
            if contains(key.span(), offset) || in_child || (nested && encloses(child, offset)) {
                path.push(name.to_string());
                descend(child, offset, path);
                return;
            }
        }
    } else if let Some(array) = item.as_array_of_tables() {
        for (index, table) in array.iter().enumerate() {
            let inside = table
                .iter()
                .filter_map(|(name, _)| table.get_key_value(name))
                .any(|(key, child)| contains(key.span(), offset) || contains(child.span(), offset));
            if inside || contains(table.span(), offset) {
                path.push(index.to_string());
                for (name, _) in table.iter() {
                    if let Some((key, child)) = table.get_key_value(name) {
                        if contains(key.span(), offset) || contains(child.span(), offset) {
                            path.push(name.to_string());
                            descend(child, offset, path);
                            return;
                        }
                    }
                }
                return;
            }
        }
    }
}

/// Whether any key or value below `item` contains `offset` (tables declared by
/// headers have no span of their own).
fn encloses(item: &Item, offset: usize) -> bool {
    if let Some(table) = item.as_table_like() {
        table.iter().any(|(name, _)| {
            table.get_key_value(name).is_some_and(|(key, child)| {
                contains(key.span(), offset)
                    || contains(child.span(), offset)
                    || encloses(child, offset)
            })
        })
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "[postgres]\nadmin = { env = \"X\" }\n\n[roles.app_user]\ndsn = \"oops\"\nlogin = true\n";

    #[test]
    fn locates_values_by_path() {
        let source = SourceFile::new("dbops.toml".into(), TEXT.into());
        let at = source.locate(&["roles", "app_user", "dsn"]).unwrap();
        assert_eq!((at.line, at.column), (5, 7));
        let at = source.locate(&["postgres", "admin"]).unwrap();
        assert_eq!((at.line, at.column), (2, 9));
    }

    #[test]
    fn finds_the_key_path_of_an_offset() {
        let source = SourceFile::new("dbops.toml".into(), TEXT.into());
        let offset = TEXT.find("\"oops\"").unwrap() + 1;
        assert_eq!(source.key_path_at(offset), ["roles", "app_user", "dsn"]);
        let offset = TEXT.find("login").unwrap();
        assert_eq!(source.key_path_at(offset), ["roles", "app_user", "login"]);
    }

    #[test]
    fn columns_count_characters() {
        let source = SourceFile::new("f".into(), "a = \"é\"\nb = x".into());
        let offset = source.text.find('x').unwrap();
        let at = source.location(offset);
        assert_eq!((at.line, at.column), (2, 5));
    }
}
