"""One coded project, read from any tool, before it becomes a study folder.

Readers (:mod:`.refi`, :mod:`.qualcoder`, :mod:`.table`) fill a :class:`Project`; offsets
in it are already code points over each source's stored text (:mod:`.offsets`), and every
selection that could not be placed is in :attr:`Project.report` instead, with its GUID.
The writer (:mod:`.writer`) turns it into YAML; :mod:`crkg.pipeline.derive` reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def norm_guid(guid: str | None) -> str | None:
    """A GUID as FORMAT.md stores it: lower case, no braces."""
    if not guid:
        return None
    return guid.strip().strip("{}").lower()


@dataclass
class Code:
    guid: str | None
    name: str
    parent: str | None = None            # guid of the parent code
    color: str | None = None             # "#rrggbb"
    description: str | None = None
    notes: list[str] = field(default_factory=list)
    codable: bool = True
    sets: list[str] = field(default_factory=list)
    key: str = ""                        # filled by the writer


@dataclass
class Source:
    guid: str | None
    name: str
    kind: str = "text"                   # text | pdf | picture | audio | video
    text: str | None = None              # stored text (UTF-8, LF, no BOM); None = missing
    missing: str | None = None           # why the text is missing
    description: str | None = None
    notes: list[str] = field(default_factory=list)
    variables: list[tuple[str, str]] = field(default_factory=list)
    sets: list[str] = field(default_factory=list)
    media_file: str | None = None        # the media's file name, for the label only
    key: str = ""


@dataclass
class Selection:
    """One coded (or commented) stretch of a source: text, or a media range/region."""

    guid: str | None
    source: str                          # guid (or name, for tables) of the source
    start: int | None = None             # code points into the stored text
    end: int | None = None
    text: str | None = None              # the passage; for tables, as the table gives it
    codes: list[str] = field(default_factory=list)   # code guids
    coders: list[str] = field(default_factory=list)  # user guids / names (never written as such)
    notes: list[str] = field(default_factory=list)
    locator: str | None = None
    # media selections (no text quoted)
    media_start: int | None = None       # milliseconds
    media_end: int | None = None
    region: tuple[int, int, int, int] | None = None  # x1, y1, x2, y2 (pixels)
    page: int | None = None
    extra_guids: list[str] = field(default_factory=list)  # same range selected again
    key: str = ""

    @property
    def is_media(self) -> bool:
        return self.text is None and self.start is None


@dataclass
class Case:
    guid: str | None
    name: str
    description: str | None = None
    variables: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)      # source guids
    selections: list[str] = field(default_factory=list)   # selection guids
    notes: list[str] = field(default_factory=list)
    key: str = ""


@dataclass
class Report:
    """What the import did not take over, and why (printed; counted as warnings)."""

    warnings: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)   # selections that could not be placed

    def warn(self, msg: str) -> None:
        self.warnings.append(msg)

    def leave_out(self, guid: str | None, msg: str) -> None:
        self.left_out.append(f"selection {guid or '(no GUID)'}: {msg}; left out")


@dataclass
class Project:
    name: str
    origin: str | None = None
    tool: str = "REFI-QDA"               # what importedFrom says
    dialect: str = "standard"
    description: str | None = None
    notes: list[str] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    selections: list[Selection] = field(default_factory=list)
    users: dict[str, str] = field(default_factory=dict)    # guid/name -> neutral key coder-N
    user_names: dict[str, str] = field(default_factory=dict)  # guid -> the tool's user name
    private: list[str] = field(default_factory=list)       # names/paths kept only with --keep-names
    report: Report = field(default_factory=Report)
    #: False where the tool gives no identifiers of its own (a table): none are written.
    has_identifiers: bool = True

    def coder_key(self, who: str | None) -> str | None:
        """The neutral key (``coder-1`` …) for a user GUID or name, in order of first use."""
        if not who:
            return None
        if who not in self.users:
            self.users[who] = f"coder-{len(self.users) + 1}"
        return self.users[who]
