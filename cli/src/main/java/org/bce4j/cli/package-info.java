/**
 * The bce4j command line: {@link org.bce4j.cli.Main} is the entry point ({@code java -jar bce4j.jar [command]},
 * with the commands {@code demo}, {@code info}, {@code compute} and {@code bench}; {@code --help} lists them), and
 * {@link org.bce4j.cli.Npy} reads and writes the NumPy {@code .npy} files that {@code compute} takes and writes.
 * A command exits with code 0 on success, 2 on bad arguments or input (one line on standard error names the
 * problem), and 1 on other failures.
 */
package org.bce4j.cli;
