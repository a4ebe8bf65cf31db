from benchmarks.pool.bench import main

main()
