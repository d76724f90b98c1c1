from llmos.entry import main

main()
