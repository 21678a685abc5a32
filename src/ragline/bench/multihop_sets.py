"""Multi-hop evaluation sets where passages do not name each other's titles.

``titlefree``: HotpotQA (a folder with ``qa_*.json`` and a ``*corpus*.json``) with every
mention of a document's title in *other* documents replaced by a neutral description of
that document: the article and the words after "is a" / "was an" in its first sentence,
up to the first comma or relative word ("Maximum Overdrive is a 1986 American science
fiction horror film written …" gives "a 1986 American science fiction horror film"), or
"a related subject" when there is none. A description keeps what a reader needs to
follow the sentence (the entity's kind and topic) and removes the exact name that the
``links`` follow-up matches; dropping the words instead would leave broken sentences.
Titles are matched as ``links`` matches them (whole words, any punctuation between them,
without a trailing parenthetical, at least four characters), except where a longer name
goes on after them ("United" in "United States" is not the album *United*); a second
pass replaces any title a description itself names. What ``links`` still finds afterwards
is a document's own title that holds another's ("Cotula" in *Cotula australis*) and those
longer names.

``squad-chains``: compositional questions from SQuAD paragraphs. Question 1's answer (a
name) appears in question 2, asked of a paragraph of another article; the composed
question is question 2 with that name replaced by ``X``, followed by "Here X is the
answer to: " and question 1. Both paragraphs are its supporting passages and question 2's
answer is its answer. Pairs are chosen with ``random.Random(seed)``, so the set is the
same on every run; :data:`SQUAD_CHAINS` holds the 100 made from SQuAD 2.0 dev with seed 0.

Both are written as HotpotQA folders that ``ragline eval qa`` and ``ragline eval
multihop`` read::

    python -m ragline.bench.multihop_sets titlefree ../shared/data/hotpotqa-100 OUT
    python -m ragline.bench.multihop_sets squad-chains ../shared/data/squad2-dev/dev-v2.0.json OUT
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.evaluate.qa import squad_paragraphs
from ragline.generate.links import MIN_TITLE_CHARS, TitleIndex, title_words

SQUAD_CHAINS = Path(__file__).parents[3] / "tests" / "data" / "multihop" / "squad-chains.json"
NEUTRAL = "a related subject"
"""The description of a document whose first sentence says not what it is."""

_COPULA = re.compile(r"\b(?:is|was|are|were)\s+((?:an?|the)\s[^,;:()\[\]]+)")
_ENDS_TEXT = """who whom whose which that where when by from in of for at on with and or but as
    to written directed produced created released founded located situated known based born
    starring published developed owned best"""
_ENDS = frozenset(_ENDS_TEXT.split())
_MAX_DESCRIPTION_WORDS = 7
_NAME_GOES_ON = re.compile(r"[ -][A-Z]")
_NAME_BEFORE = re.compile(r"[A-Z]\w*[ -]$")
"""After (before) a name: the name goes on ("United" in "United States" names no album)."""


def describe(text: str) -> str:
    """What a document is, from its first sentence: the article and the words after "is",
    up to a comma or relative word, at most seven words; :data:`NEUTRAL` when there is none.

    >>> describe("Maximum Overdrive is a 1986 American science fiction film written by King.")
    'a 1986 American science fiction film'
    >>> describe("Leland, a town in Mississippi.")
    'a related subject'
    """
    match = _COPULA.search(text[:300])
    if not match:
        return NEUTRAL
    kept: list[str] = []
    for word in match.group(1).split():
        if (kept and word.lower() in _ENDS) or len(kept) == _MAX_DESCRIPTION_WORDS:
            break
        kept.append(word.rstrip("."))
        if word.endswith("."):
            break
    return " ".join(kept) if len(kept) > 1 else NEUTRAL


def _title_pattern(titles: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word, case-sensitive matches of ``titles`` as ``links`` names them, longest
    first (any punctuation or spaces between their words)."""
    forms = {
        tuple(title_words(title))
        for title in titles
        if sum(map(len, title_words(title))) >= MIN_TITLE_CHARS
    }
    if not forms:
        return None
    ordered = sorted(forms, key=lambda words: (-len(words), -sum(map(len, words))))
    return re.compile(r"\b(?:" + "|".join(r"\W+".join(map(re.escape, w)) for w in ordered) + r")\b")


def without_titles(corpus: dict[str, list[str]]) -> dict[str, list[str]]:
    """``corpus`` (title → sentences) with every title named in another document replaced
    by that document's description (see the module's docstring).

    >>> out = without_titles({"Leland": ["Leland hosted Maximum Overdrive."],
    ...     "Maximum Overdrive": ["Maximum Overdrive is a 1986 horror film by King."]})
    >>> out["Leland"]
    ['Leland hosted a 1986 horror film.']
    """
    by_form = {title_words(title): title for title in corpus}
    descriptions = {title: describe("".join(sentences)) for title, sentences in corpus.items()}
    pattern = _title_pattern(corpus)
    if pattern is None:
        return dict(corpus)

    def replaced(text: str, own: tuple[str, ...], describe_them: bool) -> str:
        def replace(match: re.Match[str]) -> str:
            named = title_words(match.group())
            if named == own or _NAME_GOES_ON.match(match.string, match.end()):
                return match.group()
            return descriptions[by_form[named]] if describe_them else NEUTRAL

        return pattern.sub(replace, text)

    result: dict[str, list[str]] = {}
    for title, sentences in corpus.items():
        own = title_words(title)
        # a description may itself name a title: the second pass replaces those plainly
        result[title] = [replaced(replaced(s, own, True), own, False) for s in sentences]
    return result


def titlefree_hotpotqa(source: Path, out: Path) -> dict[str, int]:
    """The HotpotQA folder ``source`` written to ``out`` without title mentions; returns
    how many documents changed and how many named another by title before and after."""
    corpora = sorted(source.glob("*corpus*.json"))
    questions = sorted(source.glob("qa_*.json"))
    if not corpora or not questions:
        raise RaglineError(f"{source}: not a HotpotQA folder (qa_*.json and *corpus*.json)")
    corpus = json.loads(corpora[0].read_text(encoding="utf-8"))
    changed = without_titles(corpus)
    out.mkdir(parents=True, exist_ok=True)
    (out / corpora[0].name).write_text(json.dumps(changed, ensure_ascii=False), "utf-8")
    (out / questions[0].name).write_bytes(questions[0].read_bytes())
    return {
        "documents": len(corpus),
        "changed": sum(changed[t] != corpus[t] for t in corpus),
        "naming_before": _naming(corpus),
        "naming_after": _naming(changed),
    }


def _naming(corpus: dict[str, list[str]]) -> int:
    """How many documents name another document of ``corpus`` by title."""
    index = TitleIndex((title, title) for title in corpus)
    return sum(
        any(named != title for named in index.named_in(["".join(sentences)]))
        for title, sentences in corpus.items()
    )


def _is_name(answer: str) -> bool:
    """A short capitalised answer that is not a number: what can bridge two questions."""
    words = answer.split()
    return (
        0 < len(words) <= 4
        and answer[:1].isupper()
        and len(answer) >= MIN_TITLE_CHARS
        and not any(c.isdigit() for c in answer)
    )


def squad_chains(data: dict[str, Any], count: int = 100, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` two-step questions from parsed SQuAD ``data`` (see the module's docstring),
    as HotpotQA records with a ``parts`` field holding the two SQuAD questions."""
    asked: list[tuple[str, str, str, dict[str, Any]]] = []
    for paragraph in squad_paragraphs(data):
        for qa in paragraph.qas:
            if not qa.get("is_impossible") and qa["answers"]:
                asked.append((paragraph.doc_id, paragraph.title, paragraph.context, qa))
    pairs = []
    for first_doc, first_title, _, first in asked:
        bridge = first["answers"][0]["text"].strip()
        if not _is_name(bridge) or bridge in first["question"]:
            continue
        slot = re.compile(rf"\b{re.escape(bridge)}\b")
        for second_doc, second_title, context, second in asked:
            answer = second["answers"][0]["text"].strip()
            named = slot.search(second["question"])
            if (
                second_title != first_title
                and named
                and not _NAME_GOES_ON.match(second["question"], named.end())
                and not _NAME_BEFORE.search(second["question"], 0, named.start())
                and slot.search(context)
                and bridge not in answer
            ):
                pairs.append((first_doc, first, second_doc, second, bridge, slot))
    random.Random(seed).shuffle(pairs)
    chains: list[dict[str, Any]] = []
    used: set[str] = set()
    for first_doc, first, second_doc, second, bridge, slot in pairs:
        if first["id"] in used or second["id"] in used:
            continue
        used |= {first["id"], second["id"]}
        question = slot.sub("X", second["question"].strip(), count=1)
        chains.append(
            {
                "_id": f"{first['id']}+{second['id']}",
                "question": f"{question} Here X is the answer to: {first['question'].strip()}",
                "answer": second["answers"][0]["text"].strip(),
                "supporting_facts": [[first_doc, 0], [second_doc, 0]],
                "type": "bridge",
                "parts": [
                    {"id": first["id"], "question": first["question"], "answer": bridge},
                    {"id": second["id"], "question": second["question"], "answer": None},
                ],
            }
        )
        if len(chains) == count:
            break
    return chains


def squad_chain_folder(squad: Path, out: Path, chains: Path = SQUAD_CHAINS) -> dict[str, int]:
    """A HotpotQA folder at ``out``: the ``chains`` questions over every paragraph of the
    SQuAD file ``squad`` (ids ``Article#n``, as ``ragline eval qa`` names them)."""
    data = json.loads(squad.read_text(encoding="utf-8"))
    corpus = {p.doc_id: [p.context] for p in squad_paragraphs(data)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "squad_corpus.json").write_text(json.dumps(corpus, ensure_ascii=False), "utf-8")
    (out / "qa_chains.json").write_bytes(chains.read_bytes())
    return {"documents": len(corpus), "questions": len(json.loads(chains.read_text("utf-8")))}


def main(argv: list[str] | None = None) -> None:
    """``titlefree SOURCE OUT``, ``squad-chains SQUAD OUT`` (writes the folder from the
    saved questions), or ``squad-chains SQUAD OUT --remake`` (makes the questions again
    into :data:`SQUAD_CHAINS` first)."""
    parser = argparse.ArgumentParser(prog="python -m ragline.bench.multihop_sets")
    parser.add_argument("kind", choices=("titlefree", "squad-chains"))
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--remake", action="store_true", help="squad-chains: remake the set")
    args = parser.parse_args(argv)
    if args.kind == "titlefree":
        report = titlefree_hotpotqa(args.source, args.out)
    else:
        if args.remake:
            data = json.loads(args.source.read_text(encoding="utf-8"))
            SQUAD_CHAINS.parent.mkdir(parents=True, exist_ok=True)
            SQUAD_CHAINS.write_text(json.dumps(squad_chains(data), indent=1) + "\n", "utf-8")
        report = squad_chain_folder(args.source, args.out)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
