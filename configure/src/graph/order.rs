//! The graph of needs: cycles, and the deterministic initialisation order.

use super::*;

impl<'a> Cx<'a> {
    /// The graph: one node per draft (same index), an edge consumer → need.
    pub(super) fn graph(&self) -> DiGraph<usize, String> {
        let mut g = DiGraph::new();
        for i in 0..self.drafts.len() {
            g.add_node(i);
        }
        for (i, d) in self.drafts.iter().enumerate() {
            for (role, w, _) in &d.wires {
                g.add_edge(NodeIndex::new(i), NodeIndex::new(*w), role.clone());
            }
        }
        g
    }

    pub(super) fn check_cycles(&mut self, g: &DiGraph<usize, String>) {
        let mut sccs = petgraph::algo::tarjan_scc(g);
        sccs.iter_mut().for_each(|s| {
            s.sort_by(|a, b| {
                self.drafts[a.index()]
                    .name
                    .cmp(&self.drafts[b.index()].name)
            })
        });
        sccs.sort_by(|a, b| {
            self.drafts[a[0].index()]
                .name
                .cmp(&self.drafts[b[0].index()].name)
        });
        for scc in sccs {
            let start = scc[0];
            if scc.len() == 1 && !g.contains_edge(start, start) {
                continue;
            }
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            // Shortest path from `start` back to `start` inside the component.
            let mut prev: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut closing = None;
            'bfs: while let Some(n) = queue.pop_front() {
                let mut next: Vec<NodeIndex> =
                    g.neighbors(n).filter(|m| members.contains(m)).collect();
                next.sort_by(|a, b| {
                    self.drafts[a.index()]
                        .name
                        .cmp(&self.drafts[b.index()].name)
                });
                for m in next {
                    if m == start {
                        closing = Some(n);
                        break 'bfs;
                    }
                    if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(m) {
                        e.insert(n);
                        queue.push_back(m);
                    }
                }
            }
            let mut path = vec![start];
            let mut cur = closing.unwrap_or(start);
            while cur != start {
                path.push(cur);
                cur = prev.get(&cur).copied().unwrap_or(start);
            }
            path[1..].reverse();
            path.push(start);
            let names: Vec<String> = path
                .iter()
                .map(|n| format!("`{}`", self.drafts[n.index()].name))
                .collect();
            let mut d = Diagnostic::error(format!("the devices {} need each other", list(
                path[..path.len() - 1].iter().map(|n| format!("`{}`", self.drafts[n.index()].name))
            )))
            .with_note(format!("cycle: {}", names.join(" needs ")))
            .with_help("a device is initialised after the devices it needs, so needs cannot form a cycle: wire one of them to another device");
            let mut first = true;
            for pair in path.windows(2) {
                let (a, b) = (pair[0].index(), pair[1].index());
                let wire = self.drafts[a].wires.iter().find(|(_, w, _)| *w == b);
                if let Some((role, _, Some(span))) = wire {
                    let label = Label::new(
                        &self.manifest.file,
                        span.clone(),
                        format!(
                            "`{}` needs `{}` (role `{role}`)",
                            self.drafts[a].name, self.drafts[b].name
                        ),
                    );
                    d = if first {
                        d.at(label)
                    } else {
                        d.with_label(label)
                    };
                    first = false;
                }
            }
            self.diags.push(d);
        }
    }
}

/// Which drafts are kept: services, and everything the main parameters need (transitively).
pub(super) fn reachable(
    drafts: &[Draft<'_>],
    g: &DiGraph<usize, String>,
    params: &[DraftParam],
) -> Vec<bool> {
    let mut keep: Vec<bool> = drafts.iter().map(|d| d.origin == Origin::Service).collect();
    let mut stack: Vec<usize> = (0..drafts.len()).filter(|&i| keep[i]).collect();
    stack.extend(params.iter().filter_map(|p| match p {
        DraftParam::Device(_, i) => Some(*i),
        DraftParam::BootArgs(..) => None,
    }));
    while let Some(i) = stack.pop() {
        keep[i] = true;
        for n in g.neighbors(NodeIndex::new(i)) {
            if !keep[n.index()] {
                stack.push(n.index());
            }
        }
    }
    keep
}

/// The deterministic initialisation order of the kept drafts (the graph is acyclic here).
pub(super) fn init_order(
    drafts: &[Draft<'_>],
    g: &DiGraph<usize, String>,
    keep: &[bool],
) -> Vec<usize> {
    let mut pending: Vec<usize> = vec![0; drafts.len()];
    for (i, d) in drafts.iter().enumerate() {
        let needs: BTreeSet<usize> = d.wires.iter().map(|(_, w, _)| *w).collect();
        pending[i] = needs.len();
    }
    let mut ready: BTreeSet<((bool, &str), usize)> = (0..drafts.len())
        .filter(|&i| keep[i] && pending[i] == 0)
        .map(|i| (drafts[i].rank(), i))
        .collect();
    let mut order = Vec::new();
    while let Some(first) = ready.pop_first() {
        let i = first.1;
        order.push(i);
        let consumers: BTreeSet<usize> = g
            .neighbors_directed(NodeIndex::new(i), petgraph::Direction::Incoming)
            .map(|n| n.index())
            .collect();
        for c in consumers {
            pending[c] -= 1;
            if pending[c] == 0 && keep[c] {
                ready.insert((drafts[c].rank(), c));
            }
        }
    }
    order
}
