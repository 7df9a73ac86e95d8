"""Run the seed example: compute once, then load from disk."""

import numpy as np
from tasks import analyze

task = analyze(arr=np.array([1, 2, 3]), dt=0.5, nbins=2)  # lazy: nothing runs yet
first = task.run()  # computes and writes the result
print(f"{task!r}\n  digest {task.digest}\n  computed: {task.computed}  result: {first}")

again = analyze(arr=np.array([1, 2, 3]), dt=0.5, nbins=2)
second = again.run()  # loads from disk
print(f"  second run computed: {again.computed}  result: {second}")
assert first == second and not again.computed
print(f"  saved task file: {task.save('taskdir')}")
