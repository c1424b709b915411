"""How well do demonstration selectors match the target's query structure? (no LM needed)

    python -m benchbed_text2sql.selection_report text2sql/chinook text2sql/spider-dev/generated

For every question of a task, 4 demonstrations are chosen from the other questions (its
paraphrases excluded) by masked-question similarity alone, by DAIL-SQL's rule with the
retrieval baseline's query as the draft, and by DAIL-SQL's rule with the gold query as the
draft (the best a draft can do). Printed per selector: the mean skeleton similarity of the
demonstrations' queries to the target's gold query, and the fraction of demonstrations whose
skeleton equals the gold's. The LM's own zero-shot draft needs generations; see the README.
"""

from __future__ import annotations

import argparse

from benchbed_text2sql.methods.llm import CausalLMSQL
from benchbed_text2sql.sqlinfo import skeleton, skeleton_similarity


class _GoldDraft(CausalLMSQL):
    def draft_query(self, item) -> str:
        return item.gold


def selectors(shots: int):
    return {
        "masked question only": CausalLMSQL(shots=shots),
        "DAIL, draft = nearest-question-sql": CausalLMSQL(shots=shots, draft="nearest-question"),
        "DAIL, draft = gold query (upper bound)": _GoldDraft(shots=shots, draft="zero-shot"),
    }


def measure(task_name: str, shots: int = 4) -> dict[str, tuple[float, float]]:
    from benchbed import Context
    from benchbed_text2sql.tasks import all_tasks

    task = {t.name: t for t in all_tasks()}[task_name]
    ctx = Context(seed=0, plugin="text2sql", show_progress=False)
    bench = task.load(ctx)
    items = task.items(bench)
    gold = {i.id: skeleton(i.gold) for i in items}
    out = {}
    for name, lm in selectors(shots).items():
        lm.prepare(bench.examples, ctx)
        sims, same = [], []
        for item in items:
            for demo in lm._demonstrations(item):
                demo_skeleton = skeleton(demo.gold)
                sims.append(skeleton_similarity(demo_skeleton, gold[item.id]))
                same.append(demo_skeleton == gold[item.id])
        out[name] = (sum(sims) / len(sims), sum(same) / len(same))
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="+")
    parser.add_argument("--shots", type=int, default=4)
    args = parser.parse_args(argv)
    print("| task | selector | mean skeleton similarity to gold | same skeleton as gold |")
    print("|---|---|---|---|")
    for task in args.tasks:
        for name, (sim, same) in measure(task, args.shots).items():
            print(f"| {task} | {name} | {sim:.3f} | {same:.1%} |")


if __name__ == "__main__":
    main()
