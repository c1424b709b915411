"""What we read out of SQL text with sqlglot: ORDER BY, literals, Spider's hardness levels
and the clause-by-clause components behind exact set match.

Spider's own evaluator works on its parsed-SQL dicts; we parse any SQLite query with
sqlglot instead, so the same rules apply to Chinook and to predictions. On the 1,034 Spider
dev queries our hardness gives exactly Spider's published split (248 easy, 446 medium,
174 hard, 166 extra); a test holds it there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

HARDNESS_LEVELS = ("easy", "medium", "hard", "extra")


class Schema:
    """Tables -> column names (lower case) and the foreign-key pairs between columns."""

    def __init__(self, tables: Mapping[str, Sequence[str]], foreign_keys=()):
        self.tables = {t.lower(): [c.lower() for c in cols] for t, cols in tables.items()}
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                x = parent[x]
            return x

        for (t1, c1), (t2, c2) in foreign_keys:
            a, b = find(f"{t1.lower()}.{c1.lower()}"), find(f"{t2.lower()}.{c2.lower()}")
            if a != b:
                parent[max(a, b)] = min(a, b)
        # Spider's evaluator treats columns linked by a foreign key as the same column.
        self.canonical = {key: find(key) for key in parent}

    def column(self, table: str, column: str) -> str:
        key = f"{table}.{column}"
        return self.canonical.get(key, key)


def parse(sql: str):
    import sqlglot

    return sqlglot.parse_one(sql, read="sqlite")


def try_parse(sql: str):
    from sqlglot.errors import SqlglotError

    try:
        tree = parse(sql)
    except (SqlglotError, ValueError, RecursionError):
        return None
    return tree


def _set_chain(tree) -> tuple[list, list[str]]:
    """`A UNION B EXCEPT C` -> ([A, B, C], ["union", "except"]), left to right."""
    from sqlglot import exp

    if isinstance(tree, exp.Subquery):
        return _set_chain(tree.this)
    if isinstance(tree, (exp.Union, exp.Intersect, exp.Except)):
        left, left_ops = _set_chain(tree.this)
        right, right_ops = _set_chain(tree.expression)
        return left + right, left_ops + [tree.key] + right_ops
    return [tree], []


def top_level_orders(sql: str) -> bool:
    """Does the outermost query order its rows? (decides whether row order is compared)"""
    tree = try_parse(sql)
    if tree is None:
        return "order by" in " ".join(sql.lower().split())
    while tree is not None and tree.key == "subquery":
        tree = tree.this
    if tree.args.get("order"):
        return True
    parts, _ = _set_chain(tree)
    return bool(parts and parts[-1].args.get("order"))


# -- parts of one SELECT ------------------------------------------------------------------------


def _tables(select) -> list:
    """The FROM item and the joined items, as sqlglot nodes (Table or Subquery)."""
    items = []
    from_ = select.args.get("from_") or select.args.get("from")
    if from_ is not None:
        items.append(from_.this)
        items.extend(from_.expressions or [])
    for join in select.args.get("joins") or []:
        items.append(join.this)
    return items


def _split(node) -> tuple[list, list[str]]:
    """A condition tree -> (conditions, connectors), ignoring parentheses as Spider does."""
    from sqlglot import exp

    if node is None:
        return [], []
    if isinstance(node, (exp.Where, exp.Having)):
        return _split(node.this)
    if isinstance(node, exp.Paren):
        return _split(node.this)
    if isinstance(node, (exp.And, exp.Or)):
        left, lops = _split(node.this)
        right, rops = _split(node.expression)
        return left + right, lops + [node.key] + rops
    return [node], []


def _join_conditions(select) -> tuple[list, list[str]]:
    conds, ops = [], []
    for join in select.args.get("joins") or []:
        c, o = _split(join.args.get("on"))
        conds += c
        ops += o
    return conds, ops


def _negated(cond) -> bool:
    from sqlglot import exp

    return isinstance(cond, exp.Not) or bool(cond.args.get("negate"))


def _core(cond):
    from sqlglot import exp

    return cond.this if isinstance(cond, exp.Not) else cond


def _is_like(cond) -> bool:
    from sqlglot import exp

    return isinstance(_core(cond), (exp.Like, exp.ILike))


def _subqueries_in(cond) -> int:
    """Subqueries directly used as an operand of a condition (not nested deeper)."""
    from sqlglot import exp

    core = _core(cond)
    operands = [core.args.get(k) for k in ("this", "expression", "query", "low", "high")]
    operands += list(core.args.get("expressions") or [])
    count = 0
    for op in operands:
        while isinstance(op, exp.Paren):
            op = op.this
        if isinstance(op, (exp.Subquery, exp.Select, exp.Union, exp.Intersect, exp.Except)):
            count += 1
    return count


def _has_agg(node) -> bool:
    from sqlglot import exp

    node = node.this if isinstance(node, exp.Alias) else node
    if isinstance(node, exp.Ordered):
        node = node.this
    return isinstance(node, exp.AggFunc)


def hardness(sql: str) -> str:
    """Spider's hardness level (easy, medium, hard, extra) of a SQLite query."""
    tree = try_parse(sql)
    if tree is None:
        return "extra"
    parts, ops = _set_chain(tree)
    select = parts[0]
    where, where_ops = _split(select.args.get("where"))
    having, having_ops = _split(select.args.get("having"))
    join_conds, join_ops = _join_conditions(select)
    group = select.args.get("group")
    group_items = list(group.expressions) if group else []
    order = select.args.get("order") or (tree.args.get("order") if ops else None)
    limit = select.args.get("limit") or (tree.args.get("limit") if ops else None)

    comp1 = bool(where) + bool(group_items) + bool(order) + (limit is not None)
    comp1 += max(len(_tables(select)) - 1, 0)
    comp1 += (join_ops + where_ops + having_ops).count("or")
    comp1 += sum(_is_like(c) for c in join_conds + where + having)

    comp2 = sum(_subqueries_in(c) for c in join_conds + where + having) + (1 if ops else 0)

    # As in Spider's count_others: a negated WHERE/HAVING condition and every HAVING
    # connector count as an "aggregation" there (a quirk of its code, kept for agreement).
    aggs = sum(_has_agg(e) for e in select.expressions)
    aggs += sum(_negated(c) for c in where)
    aggs += sum(_has_agg(o) for o in (order.expressions if order else []))
    aggs += sum(_negated(c) for c in having) + len(having_ops)
    others = (aggs > 1) + (len(select.expressions) > 1) + (len(where) > 1) + (len(group_items) > 1)
    return _level(comp1, comp2, others)


def _level(comp1: int, comp2: int, others: int) -> str:
    if comp1 <= 1 and others == 0 and comp2 == 0:
        return "easy"
    if (others <= 2 and comp1 <= 1 and comp2 == 0) or (comp1 <= 2 and others < 2 and comp2 == 0):
        return "medium"
    if (
        (others > 2 and comp1 <= 2 and comp2 == 0)
        or (2 < comp1 <= 3 and others <= 2 and comp2 == 0)
        or (comp1 <= 1 and others == 0 and comp2 <= 1)
    ):
        return "hard"
    return "extra"


# -- exact set match ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Components:
    select: tuple
    from_: tuple
    where: tuple
    connectors: tuple
    group: tuple
    having: tuple
    order: tuple
    iuen: tuple
    keywords: tuple = field(default=())

    def differing(self, other: Components) -> list[str]:
        names = (
            "select",
            "from_",
            "where",
            "connectors",
            "group",
            "having",
            "order",
            "iuen",
            "keywords",
        )
        return [n.rstrip("_") for n in names if getattr(self, n) != getattr(other, n)]


class _Canon:
    """Renders expressions with columns resolved to `table.column` and values masked."""

    def __init__(self, schema: Schema | None):
        self.schema = schema

    def aliases(self, select) -> dict[str, str]:
        from sqlglot import exp

        names = {}
        for item in _tables(select):
            if isinstance(item, exp.Table):
                table = item.name.lower()
                names[table] = table
                if item.alias:
                    names[item.alias.lower()] = table
        return names

    def column(self, col, aliases: dict[str, str]) -> str | None:
        name = col.name.lower()
        if name == "*" or col.is_star:
            return "*"
        qualifier = col.table.lower() if col.table else ""
        if qualifier:
            table = aliases.get(qualifier, qualifier)
            return self.schema.column(table, name) if self.schema else f"{table}.{name}"
        if self.schema is None:
            return name
        owners = [
            t for t in dict.fromkeys(aliases.values()) if name in self.schema.tables.get(t, ())
        ]
        if len(owners) == 1:
            return self.schema.column(owners[0], name)
        if not owners:
            return None  # not a column: a double-quoted string, or an output alias
        return name

    def render(self, node, aliases: dict[str, str]) -> str:
        from sqlglot import exp

        def replace(n):
            if isinstance(n, (exp.Subquery, exp.Select, exp.Union, exp.Intersect, exp.Except)):
                inner = n.this if isinstance(n, exp.Subquery) else n
                return exp.Var(this=f"<{components_of(inner, self)}>")
            if isinstance(n, exp.Literal):
                return exp.Var(this="value")
            if isinstance(n, exp.Column):
                resolved = self.column(n, aliases)
                if resolved is None:
                    return exp.Var(this="value" if n.this.args.get("quoted") else n.name.lower())
                return exp.Var(this=resolved)
            return n

        def unwrap(n):
            # DISTINCT is ignored, as in Spider's evaluator; aliases and parentheses too.
            if isinstance(n, exp.Distinct):
                return (
                    exp.Tuple(expressions=list(n.expressions))
                    if len(n.expressions) > 1
                    else n.expressions[0]
                )
            if isinstance(n, (exp.Alias, exp.Paren)):
                return n.this
            return n

        plain = node.copy().transform(unwrap)
        plain = plain.transform(unwrap)  # a wrapper directly inside another one
        return plain.transform(replace).sql(dialect="sqlite").lower()


def components_of(tree, canon: _Canon) -> Components:
    from sqlglot import exp

    parts, ops = _set_chain(tree)
    select = parts[0]
    if not isinstance(select, exp.Select):
        raise ValueError(f"not a SELECT: {select.sql()[:60]}")
    aliases = canon.aliases(select)

    def r(node) -> str:
        return canon.render(node, aliases)

    where, where_ops = _split(select.args.get("where"))
    having, having_ops = _split(select.args.get("having"))
    group = select.args.get("group")
    order = select.args.get("order") or (tree.args.get("order") if ops else None)
    limit = select.args.get("limit") or (tree.args.get("limit") if ops else None)
    from_items = []
    for item in _tables(select):
        if isinstance(item, exp.Table):
            from_items.append(item.name.lower())
        else:
            inner = item.this if isinstance(item, exp.Subquery) else item
            from_items.append(f"<{components_of(inner, canon)}>")
    iuen: tuple = ()
    if ops:
        iuen = (ops[0], components_of(_chain_tree(parts[1:], ops[1:]), canon))

    keywords = set()
    if where:
        keywords.add("where")
    if group:
        keywords.add("group")
    if having:
        keywords.add("having")
    if order:
        keywords.add("order")
    if limit is not None:
        keywords.add("limit")
    if ops:
        keywords.add(ops[0])
    conds = where + having
    if "or" in where_ops + having_ops:
        keywords.add("or")
    if any(_negated(c) for c in conds):
        keywords.add("not")
    if any(isinstance(_core(c), exp.In) for c in conds):
        keywords.add("in")
    if any(_is_like(c) for c in conds):
        keywords.add("like")

    order_items = tuple(
        (r(o.this), "desc" if o.args.get("desc") else "asc")
        for o in (order.expressions if order else [])
    )
    return Components(
        select=tuple(sorted(r(e) for e in select.expressions)),
        from_=tuple(sorted(from_items)),
        where=tuple(sorted(r(c) for c in where)),
        connectors=tuple(sorted(set(where_ops))),
        group=tuple(sorted(r(g) for g in (group.expressions if group else []))),
        having=tuple(sorted(r(c) for c in having)),
        order=(order_items, limit is not None),
        iuen=iuen,
        keywords=tuple(sorted(keywords)),
    )


def _chain_tree(parts: list, ops: list[str]):
    """Rebuild `parts[0] op parts[1] ...` right-associatively, as Spider nests IUEN."""
    from sqlglot import exp

    if not ops:
        return parts[0]
    kind = {"union": exp.Union, "intersect": exp.Intersect, "except": exp.Except}[ops[0]]
    return kind(this=parts[0], expression=_chain_tree(parts[1:], ops[1:]), distinct=True)


def components(sql: str, schema: Schema | None = None) -> Components:
    """Raises ValueError when sqlglot cannot parse the query."""
    tree = try_parse(sql)
    if tree is None:
        raise ValueError("cannot parse")
    while tree.key == "subquery":
        tree = tree.this
    return components_of(tree, _Canon(schema))


def exact_set_match(gold: str, pred: str, schema: Schema | None = None) -> bool:
    """Spider's exact set match: every clause equal as a set, values and DISTINCT ignored."""
    try:
        pred_parts = components(pred, schema)
    except Exception:  # a prediction sqlglot cannot take apart simply does not match
        return False
    return _cached_components(gold, schema) == pred_parts


@lru_cache(maxsize=8192)
def _cached_components(sql: str, schema: Schema | None) -> Components:
    return components(sql, schema)


# -- literals -----------------------------------------------------------------------------------


def literals(sql: str, schema: Schema | None = None) -> list[tuple[str | None, str, object]]:
    """(table.column or None, operator, value) for each literal compared with a column.

    Double-quoted words that are not columns count as strings (SQLite reads them so).
    """
    from sqlglot import exp

    tree = try_parse(sql)
    if tree is None:
        return []
    canon = _Canon(schema)
    found = []
    for select in tree.find_all(exp.Select):
        aliases = canon.aliases(select)
        for cond in select.find_all(exp.Predicate):
            if cond.find_ancestor(exp.Select) is not select:
                continue
            core = _core(cond)
            col = core.this if isinstance(core.this, exp.Column) else None
            target = canon.column(col, aliases) if col is not None else None
            values = [core.args.get(k) for k in ("expression", "low", "high")]
            values += list(core.args.get("expressions") or [])
            for v in values:
                value = _literal_value(v, canon, aliases)
                if value is not None:
                    found.append((target, core.key, value))
    return found


def _literal_value(node, canon: _Canon, aliases):
    from sqlglot import exp

    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal):
        inner = _literal_value(node.this, canon, aliases)
        return -inner if isinstance(inner, (int, float)) else None
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return None
    if isinstance(node, exp.Column) and node.this.args.get("quoted") and not node.table:
        if canon.column(node, aliases) is None:
            return node.name
    return None


# -- query skeletons (DAIL-SQL) -----------------------------------------------------------------

_NAME_TOKENS = ("VAR", "IDENTIFIER")
_ORDER_ENDS = ("LIMIT", "OFFSET", "UNION", "INTERSECT", "EXCEPT", "SEMICOLON")
_VALUE_TOKENS = ("STRING", "NUMBER", "NATIONAL_STRING", "HEX_STRING", "BIT_STRING")


def skeleton(sql: str) -> str:
    """DAIL-SQL's query skeleton (Gao et al. 2023, Sec. 4.2; `sql2skeleton` in their code).

    Keywords and operators are kept in lower case, table names, column names and values become
    `_`; then the join conditions and the join chain, `_ , _` lists and `_ op _` comparisons
    collapse into one `_` each, `where _ and _` into `where _`, and an ORDER BY without a
    direction gets `asc`. DAIL-SQL masks the names it finds in the schema; from sqlglot's tokens
    we mask every name that is not a function call, so an invented column is masked too.
    """
    import re

    import sqlglot
    from sqlglot.errors import SqlglotError

    text = sql.strip().rstrip(";")
    try:
        tokens = sqlglot.tokenize(text, read="sqlite")
    except SqlglotError:
        return " ".join(text.lower().split())
    out: list[str] = []
    skip_alias = False
    depth, order_depth = 0, None  # the parenthesis depth of an open ORDER BY list

    def close_order_item():
        if out[-1] not in ("asc", "desc"):
            out.append("asc")  # an ORDER BY item without direction, as DAIL's add_asc

    for i, tok in enumerate(tokens):
        kind = tok.token_type.name
        following = tokens[i + 1].token_type.name if i + 1 < len(tokens) else ""
        if (
            order_depth is not None
            and depth == order_depth
            and (kind in _ORDER_ENDS or (kind == "R_PAREN") or kind == "COMMA")
        ):
            close_order_item()
            if kind != "COMMA":
                order_depth = None
        depth += (kind == "L_PAREN") - (kind == "R_PAREN")
        if skip_alias:
            skip_alias = False
            if kind in _NAME_TOKENS or kind == "STRING":
                continue
        if kind == "ORDER_BY":
            order_depth = depth
        if kind == "ALIAS":
            skip_alias = True  # `AS name` goes, as in DAIL's remove_table_alias
        elif kind in _NAME_TOKENS and following == "L_PAREN":
            out.append(tok.text.lower())  # a function
        elif kind in _NAME_TOKENS or kind in _VALUE_TOKENS or kind == "STAR":
            if out[-2:-1] == ["_"] and out[-1:] == ["."]:
                out.pop()  # `t1 . name` is one masked column
            else:
                out.append("_")
        elif kind == "DASH" and following == "NUMBER" and (not out or out[-1] not in ("_", ")")):
            continue  # the sign of a negative number, which is masked next
        else:
            out.append(tok.text.lower())
    if order_depth is not None:
        close_order_item()
    s = " ".join(" ".join(out).split())
    s = s.replace("on _ = _ and _ = _", "on _ = _").replace("on _ = _ or _ = _", "on _ = _")
    s = s.replace(" on _ = _", "")
    s = re.sub(r"_ (?:(?:(?:inner|left|right|full|cross|natural|outer) )*join _ ?)+", "_ ", s)
    while "_ , _" in s:
        s = s.replace("_ , _", "_")
    for op in ("=", "!=", "<>", ">", ">=", "<", "<="):
        s = s.replace(f"_ {op} _", "_")
    while "where _ and _" in s or "where _ or _" in s:
        s = s.replace("where _ and _", "where _").replace("where _ or _", "where _")
    return " ".join(s.split())


def skeleton_similarity(a: str, b: str) -> float:
    """DAIL-SQL's query similarity: Jaccard similarity of two skeletons' token multisets,
    |A & B| / (|A| + |B| - |A & B|) with multiplicities (their `jaccard_similarity`)."""
    from collections import Counter

    ta, tb = Counter(a.split()), Counter(b.split())
    total = sum(ta.values()) + sum(tb.values())
    if not total:
        return 1.0
    common = sum((ta & tb).values())
    return common / (total - common)
