"""Every diagram in processes/ is drawn (BPMN DI) so it reads well in bpmn-js and Camunda Modeler, and follows
the ZVH conventions: lanes are known roles, user tasks sit in lanes, gateways name their outgoing flows, and
every deadline leads to a person."""

from __future__ import annotations

from collections import deque
from itertools import combinations, pairwise
from pathlib import Path

import pytest
from lxml import etree

from engine.bundles import NS
from engine.demo import DEMO_PEOPLE
from engine.spiff import lane_role
from tests.processes.harness import PROCESSES, lane_properties, process_files

DI = {
    **NS,
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
FLOW_NODES = frozenset(
    {
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "userTask",
        "manualTask",
        "task",
        "scriptTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
    }
)
ACTIVITIES = {"userTask", "manualTask", "task", "scriptTask", "businessRuleTask", "callActivity", "subProcess"}
FILES = process_files()
Rect = tuple[float, float, float, float]


def local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


class Diagram:
    """The parts of one BPMN file the checks need."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.root = etree.parse(str(path)).getroot()
        self.process = self.root.xpath("./bpmn:process[@isExecutable='true']", namespaces=NS)[0]
        self.nodes = {
            str(e.get("id")): e for e in self.process.iter() if isinstance(e.tag, str) and local(e) in FLOW_NODES
        }
        self.flows = {str(f.get("id")): f for f in self.process.xpath(".//bpmn:sequenceFlow", namespaces=NS)}
        self.lanes = {str(lane.get("id")): lane for lane in self.process.xpath(".//bpmn:lane", namespaces=NS)}
        self.shapes: dict[str, Rect] = {}
        self.labels: dict[str, Rect] = {}
        for shape in self.root.xpath(".//bpmndi:BPMNShape", namespaces=DI):
            self.shapes[str(shape.get("bpmnElement"))] = self._rect(shape.find("dc:Bounds", DI))
            label = shape.find("bpmndi:BPMNLabel/dc:Bounds", DI)
            if label is not None:
                self.labels[str(shape.get("bpmnElement"))] = self._rect(label)
        self.edges: dict[str, list[tuple[float, float]]] = {}
        for edge in self.root.xpath(".//bpmndi:BPMNEdge", namespaces=DI):
            points = [(float(p.get("x")), float(p.get("y"))) for p in edge.findall("di:waypoint", DI)]
            self.edges[str(edge.get("bpmnElement"))] = points
            label = edge.find("bpmndi:BPMNLabel/dc:Bounds", DI)
            if label is not None:
                self.labels[str(edge.get("bpmnElement"))] = self._rect(label)
        self.lane_of = {
            str(ref.text).strip(): lane_id
            for lane_id, lane in self.lanes.items()
            for ref in lane.findall("bpmn:flowNodeRef", NS)
        }

    @staticmethod
    def _rect(bounds: etree._Element | None) -> Rect:
        assert bounds is not None, "a shape without dc:Bounds"
        return (float(bounds.get("x")), float(bounds.get("y")), float(bounds.get("width")), float(bounds.get("height")))

    def container(self, node_id: str) -> str | None:
        """The id of the expanded sub-process a node is drawn inside, if any."""
        parent = self.nodes[node_id].getparent()
        return str(parent.get("id")) if parent is not None and local(parent) == "subProcess" else None

    def related(self, a: str, b: str) -> bool:
        """Shapes that may overlap: a boundary event and its host, a node and the sub-process around it."""
        for x, y in ((a, b), (b, a)):
            node = self.nodes.get(x)
            if node is not None and node.get("attachedToRef") == y:
                return True
            if self.container(x) == y:
                return True
        return False


def overlap(r1: Rect, r2: Rect, margin: float = 0.0) -> bool:
    return (
        r1[0] + margin < r2[0] + r2[2]
        and r2[0] + margin < r1[0] + r1[2]
        and r1[1] + margin < r2[1] + r2[3]
        and r2[1] + margin < r1[1] + r1[3]
    )


def segment_crosses(a: tuple[float, float], b: tuple[float, float], rect: Rect, inset: float = 3.0) -> bool:
    """Whether segment a-b passes through the interior of `rect` (shrunk by `inset`)."""
    x0, y0, x1, y1 = rect[0] + inset, rect[1] + inset, rect[0] + rect[2] - inset, rect[1] + rect[3] - inset
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - x0), (dx, x1 - a[0]), (-dy, a[1] - y0), (dy, y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


@pytest.fixture(params=FILES, ids=[p.stem for p in FILES])
def diagram(request: pytest.FixtureRequest) -> Diagram:
    return Diagram(request.param)


def test_processes__there_are_diagrams() -> None:
    assert FILES, "processes/ holds no BPMN file"


def test_diagram__process_id_is_the_file_name(diagram: Diagram) -> None:
    assert diagram.process.get("id") == diagram.path.stem
    assert diagram.process.get("name"), "the process needs a (Dutch) name"


def test_diagram__every_element_is_drawn(diagram: Diagram) -> None:
    assert set(diagram.nodes) - set(diagram.shapes) == set(), "flow nodes without a shape"
    assert set(diagram.lanes) - set(diagram.shapes) == set(), "lanes without a shape"
    assert set(diagram.flows) - set(diagram.edges) == set(), "sequence flows without an edge"
    short = [flow for flow in diagram.flows if len(diagram.edges[flow]) < 2]
    assert short == [], "edges need at least two waypoints"


def test_diagram__shapes_do_not_overlap(diagram: Diagram) -> None:
    clashes = [
        (a, b)
        for a, b in combinations(sorted(diagram.nodes), 2)
        if not diagram.related(a, b) and overlap(diagram.shapes[a], diagram.shapes[b])
    ]
    assert clashes == []


def test_diagram__nodes_sit_inside_their_lane(diagram: Diagram) -> None:
    outside = []
    for node_id, lane_id in diagram.lane_of.items():
        x, y, w, h = diagram.shapes[node_id]
        lx, ly, lw, lh = diagram.shapes[lane_id]
        cx, cy = x + w / 2, y + h / 2
        if not (lx <= cx <= lx + lw and ly <= cy <= ly + lh):
            outside.append(node_id)
    assert outside == []


def test_diagram__edges_do_not_cross_through_other_shapes(diagram: Diagram) -> None:
    crossings = []
    for flow_id, flow in diagram.flows.items():
        ends = {str(flow.get("sourceRef")), str(flow.get("targetRef"))}
        allowed = (
            ends
            | {diagram.container(end) for end in ends}
            | {str(diagram.nodes[end].get("attachedToRef")) for end in ends if diagram.nodes[end].get("attachedToRef")}
        )
        points = diagram.edges[flow_id]
        for node_id in diagram.nodes:
            if node_id in allowed:
                continue
            if any(segment_crosses(a, b, diagram.shapes[node_id]) for a, b in pairwise(points)):
                crossings.append((flow_id, node_id))
    assert crossings == []


def test_diagram__labels_do_not_cover_shapes(diagram: Diagram) -> None:
    covered = [
        (owner, node_id)
        for owner, label in diagram.labels.items()
        for node_id in diagram.nodes
        if node_id != owner and overlap(label, diagram.shapes[node_id], margin=1.0)
    ]
    assert covered == []


def test_diagram__activities_have_short_names(diagram: Diagram) -> None:
    unnamed = [i for i, n in diagram.nodes.items() if local(n) in ACTIVITIES and not (n.get("name") or "").strip()]
    long_names = [n.get("name") for n in diagram.nodes.values() if len(n.get("name") or "") > 60]
    assert unnamed == []
    assert long_names == []


#: Elements a person meets by name: the steps in the inbox and on the case page, and the deadlines and messages the
#: case timeline reports ("Termijn verstreken: Bedenktijd verstreken"). Without a name the page would show the id.
NAMED_FOR_PEOPLE = ACTIVITIES | {"intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"}


def test_diagram__every_step_and_deadline_has_a_name_for_people(diagram: Diagram) -> None:
    unnamed = [
        node_id
        for node_id, node in diagram.nodes.items()
        if local(node) in NAMED_FOR_PEOPLE and not (node.get("name") or "").strip()
    ]
    assert unnamed == [], "name every step and event in Dutch: pages show the name, never the id"


def test_diagram__decisions_name_their_outgoing_flows(diagram: Diagram) -> None:
    unnamed = [
        flow_id
        for flow_id, flow in diagram.flows.items()
        if local(diagram.nodes[str(flow.get("sourceRef"))]) in ("exclusiveGateway", "inclusiveGateway")
        and len([f for f in diagram.flows.values() if f.get("sourceRef") == flow.get("sourceRef")]) > 1
        and not (flow.get("name") or "").strip()
    ]
    assert unnamed == []


def test_diagram__lanes_are_known_roles(diagram: Diagram) -> None:
    unknown = {
        str(lane.get("name"))
        for lane in diagram.lanes.values()
        if (role := lane_role(lane.get("name"), lane_properties(lane))) is not None and role not in DEMO_PEOPLE
    }
    assert unknown == set(), "every lane must name a role of engine.demo.DEMO_PEOPLE (or be the Starter lane)"


def test_diagram__every_user_task_sits_in_a_lane(diagram: Diagram) -> None:
    laneless = [i for i, n in diagram.nodes.items() if local(n) == "userTask" and i not in diagram.lane_of]
    assert laneless == []


def test_diagram__every_deadline_leads_to_a_person(diagram: Diagram) -> None:
    """A boundary timer must route to a user task in a lane (an escalation someone sees), never end silently."""
    outgoing: dict[str, list[str]] = {}
    for flow in diagram.flows.values():
        outgoing.setdefault(str(flow.get("sourceRef")), []).append(str(flow.get("targetRef")))
    silent = []
    for node_id, node in diagram.nodes.items():
        if local(node) != "boundaryEvent" or node.find("bpmn:timerEventDefinition", NS) is None:
            continue
        queue, seen, found = deque(outgoing.get(node_id, [])), set(), False
        while queue and not found:
            current = queue.popleft()
            if current in seen:
                continue
            seen.add(current)
            found = local(diagram.nodes[current]) == "userTask" and current in diagram.lane_of
            queue.extend(outgoing.get(current, []))
        if not found:
            silent.append(node_id)
    assert silent == []


def test_processes_readme__describes_every_process() -> None:
    readme = (PROCESSES / "README.md").read_text(encoding="utf-8")
    missing = [path.stem for path in FILES if f"`{path.stem}`" not in readme]
    assert missing == []
