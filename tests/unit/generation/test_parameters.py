"""The one parameter builder: what completion, code actions and ``check`` all send."""

from __future__ import annotations

from hf_lsp.config.settings import parse_settings
from hf_lsp.generation.parameters import MAX_STOP_SEQUENCES, sampling_parameters


def test_stops_are_deduplicated_in_order_and_capped() -> None:
    p = parse_settings({}).parameters
    stops = ["\n", "a", "\n", "", "b", "c", "d", "e"]
    params = sampling_parameters(p, max_new_tokens=8, stops=stops)
    assert params["stop"] == ["\n", "a", "b", "c"]
    assert len(params["stop"]) == MAX_STOP_SEQUENCES


def test_no_stop_sequence_means_no_stop_field() -> None:
    params = sampling_parameters(parse_settings({}).parameters, max_new_tokens=8)
    assert "stop" not in params


def test_a_zero_temperature_decodes_greedily_unless_several_sequences_are_asked() -> None:
    p = parse_settings({"parameters": {"temperature": 0}}).parameters
    one = sampling_parameters(p, max_new_tokens=8)
    assert "temperature" not in one and one["do_sample"] is False
    several = sampling_parameters(p, max_new_tokens=8, sequences=3)
    assert several["do_sample"] is True and several["num_return_sequences"] == 3


def test_top_p_of_one_is_left_out_and_dropped_parameters_are_not_sent() -> None:
    p = parse_settings({"parameters": {"top_p": 1.0, "top_k": 5}}).parameters
    params = sampling_parameters(p, max_new_tokens=8, dropped=["top_k"])
    assert "top_p" not in params and "top_k" not in params
    assert params["max_new_tokens"] == 8 and params["return_full_text"] is False
