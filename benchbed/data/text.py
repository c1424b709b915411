"""Real labelled text from Debian packages: WordNet glosses and fortunes (see ASSETS.md).

- `wordnet_glosses()`: every synset of WordNet 3.x (`wordnet-base`, /usr/share/wordnet) with
  its lexicographer class, one of the 45 in `LEXNAMES` (noun.animal, verb.motion, ...).
- `fortunes()`: the `%`-separated texts of the `fortunes` package, one category per file.

Both read plain files with no third-party library and raise MissingAsset (a BenchbedError)
with the apt command when the package is not installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from benchbed.assets import system_file

WORDNET_DIR = Path("/usr/share/wordnet")
FORTUNES_DIR = Path("/usr/share/games/fortunes")

# lexnames(5WN): the lexicographer file number in a data.* line indexes this tuple.
LEXNAMES = (
    "adj.all",
    "adj.pert",
    "adv.all",
    "noun.Tops",
    "noun.act",
    "noun.animal",
    "noun.artifact",
    "noun.attribute",
    "noun.body",
    "noun.cognition",
    "noun.communication",
    "noun.event",
    "noun.feeling",
    "noun.food",
    "noun.group",
    "noun.location",
    "noun.motive",
    "noun.object",
    "noun.person",
    "noun.phenomenon",
    "noun.plant",
    "noun.possession",
    "noun.process",
    "noun.quantity",
    "noun.relation",
    "noun.shape",
    "noun.state",
    "noun.substance",
    "noun.time",
    "verb.body",
    "verb.change",
    "verb.cognition",
    "verb.communication",
    "verb.competition",
    "verb.consumption",
    "verb.contact",
    "verb.creation",
    "verb.emotion",
    "verb.motion",
    "verb.perception",
    "verb.possession",
    "verb.social",
    "verb.stative",
    "verb.weather",
    "adj.ppl",
)


@dataclass(frozen=True)
class Gloss:
    offset: str  # the synset's byte offset in its data file: with pos, a stable id
    pos: str  # n, v, a, s (adjective satellite) or r
    lexname: str
    words: tuple[str, ...]
    definition: str
    examples: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.offset}-{self.pos}"


def _parse_data_line(line: str) -> Gloss:
    head, _, gloss = line.partition(" | ")
    fields = head.split()
    offset, lexnum, pos, count = fields[0], int(fields[1]), fields[2], int(fields[3], 16)
    # words come as (word, lex_id) pairs; adjectives may carry a marker such as "(a)"
    words = tuple(fields[4 + 2 * i].split("(")[0].replace("_", " ") for i in range(count))
    parts = gloss.strip().split('; "')
    examples = tuple(p.strip().strip('"').strip() for p in parts[1:])
    return Gloss(offset, pos, LEXNAMES[lexnum], words, parts[0].strip(), examples)


def wordnet_glosses(root: str | Path = WORDNET_DIR) -> list[Gloss]:
    """All synsets of the noun, verb, adjective and adverb data files, in file order."""
    out: list[Gloss] = []
    for part in ("noun", "verb", "adj", "adv"):
        path = system_file(Path(root) / f"data.{part}", "sudo apt-get install wordnet-base")
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.startswith("  "):  # lines starting with spaces are the licence
                    out.append(_parse_data_line(line.rstrip("\n")))
    return out


def fortune_categories(root: str | Path = FORTUNES_DIR) -> list[str]:
    """The category files of the fortunes package (no .dat indexes, no .u8 links)."""
    root = Path(system_file(root, "sudo apt-get install fortunes"))
    return sorted(
        p.name for p in root.iterdir() if p.is_file() and not p.is_symlink() and "." not in p.name
    )


def fortunes(root: str | Path = FORTUNES_DIR) -> list[tuple[str, str]]:
    """(category, text) for every fortune, texts separated by lines holding only `%`."""
    out: list[tuple[str, str]] = []
    for category in fortune_categories(root):
        text = (Path(root) / category).read_text(encoding="utf-8", errors="replace")
        chunk: list[str] = []
        for line in text.splitlines() + ["%"]:
            if line.strip() == "%":
                body = "\n".join(chunk).strip()
                if body:
                    out.append((category, body))
                chunk = []
            else:
                chunk.append(line)
    return out
