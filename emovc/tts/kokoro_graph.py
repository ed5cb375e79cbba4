"""Kokoro's ONNX graph with its prosody made editable between the predictors and the decoder.

Kokoro (StyleTTS2 family) predicts per-phoneme durations, an F0 contour (Hz) and an energy
contour (log amplitude) from its style vector, then decodes them to audio. `editable_graph`
adds inputs that act on those predictions before the decoder sees them, so the decoder itself,
not a post-processor, renders the voice at the emotion's timing, pitch and energy:

    duration_scale [1, tokens]  multiplies each token's predicted duration (before rounding,
                                which then follows the running sum so small changes add up)
    f0_shift       [1]          multiplies the F0 contour (2 ** (semitones / 12))
    f0_range       [1]          expands voiced F0 around its log-mean: exp(c + range * (log f0 - c))
    energy_offset  [1]          added to the energy contour (natural-log amplitude)
    f0_delta       [1, any]     semitones added to F0 along the utterance (the emotion model's
                                contour), linearly resampled to the F0 contour's length

and outputs the contours it hands the decoder (`durations` in frames, `f0_predicted`, `f0`,
`energy`). The graph is edited in memory; the installed weights are never touched.
`predictor_graph` keeps only what the contours need (no decoder), for reading a sentence's
neutral durations, F0 and energy before the emotion model changes them.
"""
import numpy as np

from emovc.core.errors import UserError
from emovc.tts.profiles import Prosody

DURATIONS = "/encoder/Div_output_0"     # predicted durations / speed, consumed by /encoder/Round
ROUNDED = "/encoder/Cast_output_0"      # the integer durations the alignment is built from
F0 = "/encoder/Reshape_output_0"        # F0 contour, Hz, consumed by the decoder
ENERGY = "/encoder/Reshape_1_output_0"  # energy contour, consumed by the decoder
VOICED_HZ = 50.0                        # F0 above this counts as voiced for the range expansion
# How much of an emotion's rate change each phoneme class takes (exponent on 1 / rate): vowels
# stretch most, pauses (punctuation, word gaps) grow more still, consonants keep closer to neutral.
VOWELS = set("aeiouyæɐɑɒɔəɘɚɛɜɝɞɪɨʊʉʌʏøœɤɯɵᵊː")
PAUSES = set(" ,.;:!?¡¿—…\"«»“”()")
CLASS_WEIGHT = {"vowel": 1.25, "pause": 1.6, "consonant": 0.6}


def _rewire(graph, old: str, new: str, skip: set[str]) -> None:
    for node in graph.node:
        if node.name not in skip:
            node.input[:] = [new if i == old else i for i in node.input]


def editable_graph(model: bytes) -> bytes:
    """`model` (Kokoro-82M ONNX bytes) with the prosody inputs and outputs above."""
    import onnx
    from onnx import TensorProto, helper
    m = onnx.load_from_string(model)
    g = m.graph
    found = {o for n in g.node for o in n.output}
    missing = [t for t in (DURATIONS, ROUNDED, F0, ENERGY) if t not in found]
    if missing:
        raise UserError(f"the installed Kokoro model is not the graph tts/kokoro_graph.py edits (no tensor "
                        f"{', '.join(missing)}); reinstall the pinned versions: pip install -r requirements.txt")
    const = lambda name, value: helper.make_node("Constant", [], [name], name=name,
                                                 value=helper.make_tensor(name, TensorProto.FLOAT, [], [value]))
    op = lambda kind, ins, out, **kw: helper.make_node(kind, ins, [out], name=out, **kw)
    ints = lambda name, values: helper.make_node("Constant", [], [name], name=name,
                                                 value=helper.make_tensor(name, TensorProto.INT64, [len(values)], values))
    nodes = [
        # scaled durations, rounded along their running sum so the total survives (a 2-frame
        # phoneme stretched by 1.1 would otherwise round back to 2 frames)
        op("Mul", [DURATIONS, "duration_scale"], "pe/scaled"),
        ints("pe/axis", [1]), ints("pe/start", [0]), ints("pe/end", [-1]), ints("pe/pad", [0, 1, 0, 0]),
        op("CumSum", ["pe/scaled", "pe/axis"], "pe/running"),
        op("Round", ["pe/running"], "pe/running_rounded"),
        op("Slice", ["pe/running_rounded", "pe/start", "pe/end", "pe/axis"], "pe/running_before"),
        op("Pad", ["pe/running_before", "pe/pad"], "pe/previous"),
        op("Sub", ["pe/running_rounded", "pe/previous"], "pe/durations"),
        const("pe/voiced_hz", VOICED_HZ), const("pe/one", 1.0), const("pe/eps", 1e-6),
        op("Greater", [F0, "pe/voiced_hz"], "pe/voiced"),
        op("Cast", ["pe/voiced"], "pe/voiced_f", to=TensorProto.FLOAT),
        op("Max", [F0, "pe/one"], "pe/f0_pos"),
        op("Log", ["pe/f0_pos"], "pe/log_f0"),
        op("Mul", ["pe/log_f0", "pe/voiced_f"], "pe/log_f0_voiced"),
        op("ReduceSum", ["pe/log_f0_voiced"], "pe/log_sum", keepdims=1),
        op("ReduceSum", ["pe/voiced_f"], "pe/count", keepdims=1),
        op("Add", ["pe/count", "pe/eps"], "pe/count_eps"),
        op("Div", ["pe/log_sum", "pe/count_eps"], "pe/centre"),
        op("Sub", ["pe/log_f0", "pe/centre"], "pe/deviation"),
        op("Mul", ["pe/deviation", "f0_range"], "pe/deviation_scaled"),
        op("Add", ["pe/centre", "pe/deviation_scaled"], "pe/log_expanded"),
        op("Exp", ["pe/log_expanded"], "pe/expanded"),
        op("Where", ["pe/voiced", "pe/expanded", F0], "pe/f0_ranged"),
        op("Mul", ["pe/f0_ranged", "f0_shift"], "pe/f0_shifted"),
        op("Shape", [F0], "pe/f0_size"),
        helper.make_node("Resize", ["f0_delta", "", "", "pe/f0_size"], ["pe/delta"], name="pe/delta",
                         mode="linear", coordinate_transformation_mode="half_pixel"),
        const("pe/st", float(np.log(2) / 12)),
        op("Mul", ["pe/delta", "pe/st"], "pe/delta_log"),
        op("Exp", ["pe/delta_log"], "pe/delta_ratio"),
        op("Mul", ["pe/f0_shifted", "pe/delta_ratio"], "f0"),
        op("Add", [ENERGY, "energy_offset"], "energy"),
        op("Identity", [F0], "f0_predicted"),
        op("Identity", [ROUNDED], "durations"),
    ]
    own = {n.name for n in nodes}
    _rewire(g, DURATIONS, "pe/durations", own)
    _rewire(g, F0, "f0", own)
    _rewire(g, ENERGY, "energy", own)
    g.node.extend(nodes)
    g.input.extend([helper.make_tensor_value_info("duration_scale", TensorProto.FLOAT, [1, "sequence_length"]),
                    *(helper.make_tensor_value_info(n, TensorProto.FLOAT, [1])
                      for n in ("f0_shift", "f0_range", "energy_offset")),
                    helper.make_tensor_value_info("f0_delta", TensorProto.FLOAT, [1, "f0_frames"])])
    g.output.extend(helper.make_empty_tensor_value_info(n) for n in ("durations", "f0_predicted", "f0", "energy"))
    return m.SerializeToString()


def predictor_graph(edited: bytes) -> bytes:
    """`edited` (from `editable_graph`) cut down to the nodes behind `durations`, `f0_predicted`
    and `energy`: the prosody of a sentence without decoding it."""
    import onnx
    m = onnx.load_from_string(edited)
    g = m.graph
    wanted = ["durations", "f0_predicted", "energy"]
    producer = {o: n for n in g.node for o in n.output}
    needed, stack, keep = set(), list(wanted), set()
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        needed.add(name)
        if name in producer:
            keep.add(producer[name].name)
            stack.extend(i for i in producer[name].input if i)
            for attr in producer[name].attribute:       # subgraphs (If/Loop) read outer names too
                if attr.g.node:
                    stack.extend(i for n in attr.g.node for i in n.input if i)
    for field, kept in ((g.node, lambda n: n.name in keep), (g.output, lambda o: o.name in wanted),
                        (g.input, lambda i: i.name in needed), (g.initializer, lambda t: t.name in needed)):
        chosen = [item for item in field if kept(item)]
        del field[:]
        field.extend(chosen)
    return m.SerializeToString()


def phoneme_class(phoneme: str) -> str:
    return "vowel" if phoneme in VOWELS else "pause" if phoneme in PAUSES else "consonant"


def prosody_inputs(phonemes: str, prosody=None, pitch: float = 0.0) -> dict[str, np.ndarray]:
    """The graph's extra inputs for `phonemes` (one per token) rendering `prosody` (tts.profiles.Prosody;
    None: neutral) on top of a voice shifted by `pitch` semitones; no F0 contour change."""
    p = prosody or Prosody()
    scale = [1.0, *((1 / p.rate) ** CLASS_WEIGHT[phoneme_class(c)] for c in phonemes), 1.0]
    return {"duration_scale": np.array([scale], np.float32),
            "f0_shift": np.array([2 ** ((p.pitch + pitch) / 12)], np.float32),
            "f0_range": np.array([p.range], np.float32),
            "energy_offset": np.array([p.energy * np.log(10) / 20], np.float32),
            "f0_delta": np.zeros((1, 1), np.float32)}
