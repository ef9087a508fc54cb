"""Applicants' shared identifiers as a graph, and rings as its connected components (pure, networkx).

The graph is bipartite: an application node per application, an identifier node per (kind, value) it
gave (phone, device id, IP, bank card, ID number, address, employer), an edge between them. Two
applications are linked when they share an identifier node of a kind that counts (`RingConfig.kinds`);
a connected component is the set of applications linked by any chain of such shares. A component is a
*ring* when it holds at least `min_persons` different people (distinct ID numbers): one person applying
twice shares everything with themself and is a velocity matter, not a ring; a couple sharing a phone is
two people and stays below the default of three.

Values are opaque strings here (the service passes blind indices, the synthetic population raw values);
nothing in this module touches the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import networkx as nx

IDENTIFIER_KINDS = ("id_number", "phone", "device_id", "ip", "bank_card", "address", "employer")
# IP addresses (carrier NAT, office networks) and employers are shared by honest people far too often to link
# applicants by themselves; addresses only within a household. They stay in the graph for the investigator's
# picture but do not make a ring unless configured.
DEFAULT_RING_KINDS = frozenset({"id_number", "phone", "device_id", "bank_card"})


@dataclass(frozen=True)
class RingConfig:
    """Which identifier kinds link applications, and how many people make a ring."""

    kinds: frozenset[str] = DEFAULT_RING_KINDS
    min_persons: int = 3


@dataclass(frozen=True)
class Application:
    """One application as the graph sees it: its key, the person (ID number or its index), its identifiers."""

    key: str
    person: str
    identifiers: Mapping[str, str] = field(default_factory=dict)  # kind -> value (missing kinds absent)


@dataclass(frozen=True)
class Component:
    """A connected component: its applications, the people behind them, and the identifiers they share."""

    applications: tuple[str, ...]
    persons: int
    shared: tuple[tuple[str, str], ...]  # (kind, value) given by two or more of its applications
    edges: tuple[tuple[str, tuple[str, str]], ...]  # (application key, (kind, value)) for the shared identifiers

    def is_ring(self, config: RingConfig) -> bool:
        """At least `min_persons` different people linked by shared identifiers."""
        return self.persons >= config.min_persons


@dataclass(frozen=True)
class GraphFeatures:
    """What the graph says of one application (features of the anomaly model, facts of the fraud rules)."""

    component_applications: int  # applications in its component, itself included
    component_persons: int  # different people in its component, itself included
    shared_identifiers: int  # of its identifiers, how many another application gave too
    degree: int  # how many other applications share at least one identifier with it
    in_ring: bool


def build(applications: Iterable[Application], config: RingConfig = RingConfig()) -> nx.Graph:
    """The bipartite graph of applications and the identifiers of the kinds that count."""
    g = nx.Graph()
    for app in applications:
        g.add_node(("a", app.key), person=app.person)
        for kind, value in app.identifiers.items():
            if value and kind in config.kinds:
                g.add_edge(("a", app.key), ("i", kind, value))
    return g


def components(graph: nx.Graph) -> list[Component]:
    """Every component with two or more applications, largest first (ties by first key, for a stable order)."""
    found = []
    for nodes in nx.connected_components(graph):
        apps = sorted(n[1] for n in nodes if n[0] == "a")
        if len(apps) < 2:
            continue
        shared = sorted((n[1], n[2]) for n in nodes if n[0] == "i" and graph.degree(n) >= 2)
        shared_set = set(shared)
        edges = tuple(sorted((a, (k, v)) for a in apps for (_, k, v) in graph.neighbors(("a", a))
                             if (k, v) in shared_set))
        persons = len({graph.nodes[("a", a)]["person"] for a in apps})
        found.append(Component(applications=tuple(apps), persons=persons, shared=tuple(shared), edges=edges))
    found.sort(key=lambda c: (-len(c.applications), c.applications[0]))
    return found


def rings(applications: Iterable[Application], config: RingConfig = RingConfig()) -> list[Component]:
    """The components that are rings."""
    return [c for c in components(build(applications, config)) if c.is_ring(config)]


def features(applications: Iterable[Application], config: RingConfig = RingConfig()) -> dict[str, GraphFeatures]:
    """`GraphFeatures` of every application."""
    apps = list(applications)
    g = build(apps, config)
    by_app: dict[str, GraphFeatures] = {}
    for comp_nodes in nx.connected_components(g):
        keys = [n[1] for n in comp_nodes if n[0] == "a"]
        persons = len({g.nodes[("a", k)]["person"] for k in keys})
        for key in keys:
            node = ("a", key)
            ids = list(g.neighbors(node))
            neighbours = {other for i in ids for other in g.neighbors(i) if other != node}
            by_app[key] = GraphFeatures(
                component_applications=len(keys), component_persons=persons,
                shared_identifiers=sum(g.degree(i) >= 2 for i in ids), degree=len(neighbours),
                in_ring=persons >= config.min_persons)
    return by_app
