"""Hypothesis strategies for what users type where a Kubernetes version is expected: valid forms, near misses
(one character changed), garbage and unicode, huge numbers, and the numbers YAML makes of unquoted versions."""

from __future__ import annotations

import os
import tempfile

from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis caches (unicode tables, constants) outside the checkout: nothing lands in the collection's build.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "cluster_ops-hypothesis"))

PRE = st.sampled_from(["alpha", "beta", "rc"])
SMALL = st.integers(min_value=0, max_value=60)
REALISTIC = st.integers(min_value=16, max_value=45)  # minors close enough together for real upgrade paths
HUGE = st.integers(min_value=10**6, max_value=10**80)
MINOR = st.one_of(REALISTIC, REALISTIC, REALISTIC, SMALL, HUGE)
MAJOR_1 = st.just(1)


@st.composite
def valid_versions(draw: st.DrawFn, major: st.SearchStrategy[int] = MAJOR_1) -> str:
    """A form the version model accepts, most of them of major 1 with realistic minors, some absurd."""
    text = f"{draw(st.sampled_from(['v', '']))}{draw(major)}.{draw(MINOR)}"
    if draw(st.booleans()):
        text += f".{draw(st.one_of(SMALL, HUGE))}"
        if draw(st.integers(0, 4)) == 0:
            text += f"{draw(st.sampled_from(['-', '~']))}{draw(PRE)}.{draw(SMALL)}"
        text += draw(st.sampled_from(["", "", "", "-1.1", "-00", "+k3s1"]))
    prefix = draw(st.sampled_from(["", "", "", "registry.k8s.io/kube-apiserver:", "localhost:5000/a/kube-proxy:"]))
    return prefix + text


@st.composite
def version_shaped(draw: st.DrawFn) -> str:
    """Looks like a version, often is not: other majors, vendor suffixes, unknown pre-releases, no patch."""
    text = draw(valid_versions(major=st.sampled_from([0, 1, 1, 2])))
    return text + draw(st.sampled_from(["", "", "-gke.100", "-eks-5e0fdde", "-gamma.1", "-RC.1", ".0.0", "-"]))


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    """A valid form with one character inserted, deleted or replaced (``v1.3O.2``, ``1..30``)."""
    text = draw(version_shaped())
    position = draw(st.integers(min_value=0, max_value=len(text)))
    char = draw(st.sampled_from(list(".-~+:/@vVxO0 \n\t٣")))
    edit = draw(st.sampled_from(["insert", "delete", "replace"]))
    if edit == "insert":
        return text[:position] + char + text[position:]
    if edit == "delete":
        return text[:position] + text[position + 1 :]
    return text[:position] + char + text[position + 1 :]


GARBAGE = st.text(max_size=300)
NINES = st.integers(min_value=1, max_value=400).map(lambda n: "1." + "9" * n)
YAML_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=1.0, max_value=1.99).map(lambda f: round(f, 2)),  # unquoted 1.30 -> 1.3
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
)

# One value where a version is expected.
VERSION_INPUTS = st.one_of(valid_versions(), version_shaped(), near_valid(), GARBAGE, NINES, YAML_NUMBERS, st.none())
# The same, as elements of lists and dicts (where a string is expected, anything can arrive).
ANY_VALUE = st.one_of(
    VERSION_INPUTS, st.lists(valid_versions(), max_size=2), st.dictionaries(GARBAGE, SMALL, max_size=2)
)
NAMES = st.one_of(st.text(min_size=1, max_size=40), st.sampled_from(["worker-1", "cp-1", "node.example.com"]))
