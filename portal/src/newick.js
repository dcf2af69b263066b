// Newick trees (the `clusters` strings of /medianGeneExpression) and their dendrograms.

/** Parses "(A:1,(B:0.5,C:0.5):0.5);" into {name, length, children}. */
export function parseNewick(text) {
  let i = 0;
  const s = text.trim().replace(/;$/, "");
  function node() {
    const result = { name: "", length: 0, children: [] };
    if (s[i] === "(") {
      i += 1;
      result.children.push(node());
      while (s[i] === ",") {
        i += 1;
        result.children.push(node());
      }
      if (s[i] !== ")") throw new Error(`bad Newick at ${i}`);
      i += 1;
    }
    let name = "";
    while (i < s.length && !",():".includes(s[i])) name += s[i++];
    result.name = name.trim();
    if (s[i] === ":") {
      i += 1;
      let length = "";
      while (i < s.length && !",()".includes(s[i])) length += s[i++];
      result.length = Number(length);
    }
    return result;
  }
  const root = node();
  if (i !== s.length) throw new Error(`bad Newick at ${i}`);
  return root;
}

export function leaves(tree) {
  return tree.children.length ? tree.children.flatMap(leaves) : [tree.name];
}

/**
 * The dendrogram's segments as one line trace's coordinates (null between segments):
 * leaf i at position i, a node at the height of its children plus their branch lengths.
 * `along` is the leaves' axis; `height` the other.
 */
export function dendrogramLines(tree) {
  const along = [];
  const height = [];
  let next = 0;
  function walk(node) {
    if (!node.children.length) return { pos: next++, h: 0 };
    const kids = node.children.map((child) => ({ ...walk(child), length: child.length }));
    const h = Math.max(...kids.map((k) => k.h + k.length));
    for (const kid of kids) {
      along.push(kid.pos, kid.pos, null);
      height.push(kid.h, h, null);
    }
    const positions = kids.map((k) => k.pos);
    along.push(Math.min(...positions), Math.max(...positions), null);
    height.push(h, h, null);
    return { pos: positions.reduce((a, b) => a + b, 0) / positions.length, h };
  }
  walk(tree);
  return { along, height };
}
