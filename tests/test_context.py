import threading

from benchbed.context import Context


def test_a_cache_lock_held_by_one_cell_keeps_the_next_waiting_until_it_is_released(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path))
    first, second = Context(plugin="p"), Context(plugin="p")
    entered = threading.Event()

    def wait_for_the_lock():
        with second.exclusive("reference.json"):
            entered.set()

    with first.exclusive("reference.json"):
        waiter = threading.Thread(target=wait_for_the_lock)
        waiter.start()
        assert not entered.wait(0.5), "a second holder got the lock while the first held it"
    waiter.join(10)
    assert entered.is_set()


def test_cache_locks_of_other_names_do_not_wait_for_each_other(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path))
    entered = threading.Event()

    def take_the_other_lock():
        with Context(plugin="p").exclusive("b"):
            entered.set()

    with Context(plugin="p").exclusive("a"):
        other = threading.Thread(target=take_the_other_lock)
        other.start()
        assert entered.wait(10)
    other.join(10)
