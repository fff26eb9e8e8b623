/** The consumer as a named module: bce4j is required by its module name, org.bce4j. */
module org.bce4j.example {
    requires org.bce4j;
}
