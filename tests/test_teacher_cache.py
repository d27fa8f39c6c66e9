import numpy as np

from mlkd_utils.teacher_cache import TeacherCache, make_targets


def test_second_request_is_a_hit_and_matches(teacher, tmp_path):
    cache = TeacherCache(teacher, "t", root=tmp_path, bf16=False)
    s = ["A man plays guitar.", "Ein Mann spielt Gitarre.", "Cats sleep."]
    first = cache.raw_embeddings(s, show_progress_bar=False)
    second = cache.raw_embeddings(s, show_progress_bar=False)
    assert (cache.misses, cache.hits) == (1, 1)
    np.testing.assert_array_equal(first, second)


def test_corrupt_entry_is_detected_and_recomputed(teacher, tmp_path):
    cache = TeacherCache(teacher, "t", root=tmp_path, bf16=False)
    s = ["one sentence", "another one"]
    good = cache.raw_embeddings(s, show_progress_bar=False)
    npy = next((tmp_path / "teacher" / "t").glob("*.npy"))
    npy.write_bytes(npy.read_bytes()[:-16])  # truncated
    assert cache.load(s) is None
    again = cache.raw_embeddings(s, show_progress_bar=False)
    assert cache.misses == 2
    np.testing.assert_allclose(again, good, atol=1e-5)


def test_target_modes():
    raw = np.array([[3.0, 4.0], [0.0, 2.0]], dtype=np.float32)
    np.testing.assert_allclose(make_targets(raw, "normalized"), [[0.6, 0.8], [0, 1]])
    np.testing.assert_allclose(make_targets(raw, "scaled", 10), [[6, 8], [0, 10]])
    np.testing.assert_array_equal(make_targets(raw, "raw"), raw)
